// SGEMM core: run-time kernel choice, the portable reference micro-kernel, the naive loops for
// tiny products, B packing and the blocked loop nest (K blocks of ≤ 256, M blocks of 192 rows,
// register tiles over 16-column B panels) shared by every matrix and convolution entry point.
#include "bnn_sgemm_internal.h"
#include "bnn_cpu.h"

#include <stdlib.h>
#include <string.h>

static size_t min_size(size_t a, size_t b) { return a < b ? a : b; }

/// Whether the CPU has AVX-512F (the AVX-512 micro-kernel also needs the AVX2 family).
static int has_avx512f(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
#else
    return 0;
#endif
}

bnn_sgemm_kernel bnn_sgemm_active_kernel(void) {
    uint32_t features = bnn_cpu_features();
    if ((features & BNN_CPU_AVX2_FMA_POPCNT) && has_avx512f()) return BNN_SGEMM_AVX512;
    if (features & BNN_CPU_AVX2_FMA_POPCNT) return BNN_SGEMM_AVX2_FMA;
    if (features & BNN_CPU_NEON) return BNN_SGEMM_NEON;
    return BNN_SGEMM_REFERENCE;
}

int bnn_sgemm_kernel_available(bnn_sgemm_kernel kernel) {
    uint32_t detected = bnn_cpu_detected_features();
    switch (kernel) {
    case BNN_SGEMM_REFERENCE: return 1;
    case BNN_SGEMM_AVX2_FMA: return (detected & BNN_CPU_AVX2_FMA_POPCNT) != 0;
    case BNN_SGEMM_AVX512: return (detected & BNN_CPU_AVX2_FMA_POPCNT) != 0 && has_avx512f();
    case BNN_SGEMM_NEON: return (detected & BNN_CPU_NEON) != 0;
    default: return 0;
    }
}

size_t bnn_sgemm_claim(size_t *counter) { return __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED); }

void *bnn_sgemm_alloc(size_t bytes) {
    void *memory = malloc(bytes > 0 ? bytes : 1);
    if (memory == NULL) abort();
    return memory;
}

bnn_sgemm_microkernel_info bnn_sgemm_select(bnn_sgemm_kernel kernel) {
    bnn_sgemm_microkernel_info info = {bnn_sgemm_microkernel_reference, BNN_SGEMM_MR, BNN_SGEMM_NR};
    if (!bnn_sgemm_kernel_available(kernel)) return info;
    switch (kernel) {
#if defined(__x86_64__) || defined(__i386__)
    case BNN_SGEMM_AVX2_FMA: info.run = bnn_sgemm_microkernel_avx2; break;
    case BNN_SGEMM_AVX512:
        info.run = bnn_sgemm_microkernel_avx512;
        info.mr = 12;
        info.nr = 2 * BNN_SGEMM_NR;
        break;
#endif
#if defined(__aarch64__)
    case BNN_SGEMM_NEON: info.run = bnn_sgemm_microkernel_neon; break;
#endif
    default: break;
    }
    return info;
}

void bnn_sgemm_microkernel_reference(size_t kc, const float *const *a, size_t a_step, const int32_t *a_offsets,
                                     const float *b, size_t b_panel_stride, float *c, size_t ldc, size_t mr, size_t nr,
                                     int accumulate) {
    (void)b_panel_stride; // one panel: nr ≤ 16
    float acc[BNN_SGEMM_MR][BNN_SGEMM_NR];
    memset(acc, 0, sizeof acc);
    for (size_t p = 0; p < kc; ++p) {
        const float *bp = b + p * BNN_SGEMM_NR;
        for (size_t r = 0; r < mr; ++r) {
            float x = a[r][a_offsets ? (size_t)a_offsets[p] : p * a_step];
            for (size_t j = 0; j < BNN_SGEMM_NR; ++j) acc[r][j] += x * bp[j];
        }
    }
    for (size_t r = 0; r < mr; ++r) {
        float *cr = c + r * ldc;
        for (size_t j = 0; j < nr; ++j) cr[j] = accumulate ? cr[j] + acc[r][j] : acc[r][j];
    }
}

void bnn_sgemm_naive(int trans_a, int trans_b, size_t m, size_t n, size_t k,
                     const float *a, size_t lda, const float *b, size_t ldb,
                     float *c, size_t ldc, int accumulate) {
    for (size_t i = 0; i < m; ++i) {
        float *ci = c + i * ldc;
        if (!accumulate) memset(ci, 0, n * sizeof(float));
    }
    if (!trans_b) {
        // C row i += Σ_p a(i,p) · B row p: contiguous, vectorisable inner loop.
        for (size_t i = 0; i < m; ++i) {
            float *ci = c + i * ldc;
            for (size_t p = 0; p < k; ++p) {
                float x = trans_a ? a[p * lda + i] : a[i * lda + p];
                const float *bp = b + p * ldb;
                for (size_t j = 0; j < n; ++j) ci[j] += x * bp[j];
            }
        }
    } else {
        for (size_t i = 0; i < m; ++i) {
            float *ci = c + i * ldc;
            for (size_t j = 0; j < n; ++j) {
                const float *bj = b + j * ldb;
                float s = 0;
                if (trans_a) {
                    for (size_t p = 0; p < k; ++p) s += a[p * lda + i] * bj[p];
                } else {
                    const float *ai = a + i * lda;
                    for (size_t p = 0; p < k; ++p) s += ai[p] * bj[p];
                }
                ci[j] += s;
            }
        }
    }
}

void bnn_sgemm_copy_panel_row(float *dst, const float *src, size_t width) {
    if (width == BNN_SGEMM_NR) { // the common case: a fixed-size copy compiles to vector moves
        memcpy(dst, src, BNN_SGEMM_NR * sizeof(float));
        return;
    }
    for (size_t j = 0; j < width; ++j) dst[j] = src[j];
    for (size_t j = width; j < BNN_SGEMM_NR; ++j) dst[j] = 0;
}

size_t bnn_sgemm_packed_b_count(size_t n, size_t k) {
    return (n + BNN_SGEMM_NR - 1) / BNN_SGEMM_NR * BNN_SGEMM_NR * k;
}

void bnn_sgemm_pack_b(int trans_b, size_t n, size_t k, const float *b, size_t ldb,
                      size_t panel0, size_t panel1, float *packed) {
    for (size_t panel = panel0; panel < panel1; ++panel) {
        float *dst = packed + panel * k * BNN_SGEMM_NR;
        size_t j0 = panel * BNN_SGEMM_NR;
        size_t width = j0 < n ? min_size(BNN_SGEMM_NR, n - j0) : 0;
        if (!trans_b) {
            for (size_t p = 0; p < k; ++p) bnn_sgemm_copy_panel_row(dst + p * BNN_SGEMM_NR, b + p * ldb + j0, width);
        } else {
            size_t p_start = 0;
#if defined(__x86_64__) || defined(__i386__)
            if (width == BNN_SGEMM_NR && (bnn_cpu_features() & BNN_CPU_AVX2_FMA_POPCNT)) {
                p_start = bnn_sgemm_pack_panel_transposed_avx2(k, b + j0 * ldb, ldb, dst);
            }
#endif
            // Transpose 16 rows of B in K chunks of 64 so the written lines stay in L1.
            for (size_t p0 = p_start; p0 < k; p0 += 64) {
                size_t p1 = min_size(k, p0 + 64);
                for (size_t jj = 0; jj < BNN_SGEMM_NR; ++jj) {
                    if (jj < width) {
                        const float *src = b + (j0 + jj) * ldb;
                        for (size_t p = p0; p < p1; ++p) dst[p * BNN_SGEMM_NR + jj] = src[p];
                    } else {
                        for (size_t p = p0; p < p1; ++p) dst[p * BNN_SGEMM_NR + jj] = 0;
                    }
                }
            }
        }
    }
}

size_t bnn_sgemm_split_k(size_t k0, size_t length, size_t tag, bnn_sgemm_kblock *blocks, size_t count) {
    if (length == 0) return count;
    size_t parts = (length + BNN_SGEMM_KC - 1) / BNN_SGEMM_KC;
    size_t offset = 0;
    for (size_t part = 0; part < parts; ++part) {
        size_t end = length * (part + 1) / parts;
        blocks[count].k0 = k0 + offset;
        blocks[count].length = end - offset;
        blocks[count].tag = tag;
        blocks[count].offset = offset;
        blocks[count].a_offsets = NULL;
        ++count;
        offset = end;
    }
    return count;
}

size_t bnn_sgemm_split_k_even(size_t k0, size_t length, size_t tag, bnn_sgemm_kblock *blocks, size_t count) {
    for (size_t offset = 0; offset < length; offset += BNN_SGEMM_KC, ++count) {
        bnn_sgemm_kblock block = {k0 + offset, min_size(BNN_SGEMM_KC, length - offset), tag, offset, NULL};
        blocks[count] = block;
    }
    return count;
}

void bnn_sgemm_drive(bnn_sgemm_microkernel_info kernel, const bnn_sgemm_kblock *blocks, size_t block_count,
                     bnn_sgemm_rows rows, void *context, const float *packed_b, size_t b_panel_stride,
                     size_t b_col0, float *c, size_t ldc, int accumulate,
                     size_t m0, size_t m1, size_t n0, size_t n1) {
    if (m0 >= m1 || n0 >= n1) return;
    if (block_count == 0) {
        if (!accumulate) {
            for (size_t i = m0; i < m1; ++i) memset(c + i * ldc + n0, 0, (n1 - n0) * sizeof(float));
        }
        return;
    }
    const float *row[BNN_SGEMM_MC + BNN_SGEMM_MR_MAX];
    // B is packed whole, so M blocks go outermost: the MC×N block of C stays in L2 across K blocks.
    for (size_t ic = m0; ic < m1; ic += BNN_SGEMM_MC) {
        size_t mc = min_size(BNN_SGEMM_MC, m1 - ic);
        for (size_t bi = 0; bi < block_count; ++bi) {
            const bnn_sgemm_kblock *block = &blocks[bi];
            int add = accumulate || bi > 0;
            size_t a_step = rows(context, ic, mc, block, row);
            for (size_t r = mc; r < mc + BNN_SGEMM_MR_MAX; ++r) row[r] = row[0];
            for (size_t jr = n0; jr < n1; jr += kernel.nr) {
                size_t nr = min_size(kernel.nr, n1 - jr);
                const float *bp = packed_b + (jr - b_col0) / BNN_SGEMM_NR * b_panel_stride + block->k0 * BNN_SGEMM_NR;
                for (size_t ir = 0; ir < mc; ir += kernel.mr) {
                    kernel.run(block->length, row + ir, a_step, block->a_offsets, bp, b_panel_stride,
                               c + (ic + ir) * ldc + jr, ldc,
                               min_size(kernel.mr, mc - ir), nr, add);
                }
            }
        }
    }
}

/// Row provider of a matrix stored with rows along K.
typedef struct {
    const float *a;
    size_t lda;
} matrix_rows;

static size_t rows_of_matrix(void *context, size_t m, size_t count, const bnn_sgemm_kblock *block,
                             const float **rows) {
    const matrix_rows *ctx = context;
    for (size_t i = 0; i < count; ++i) rows[i] = ctx->a + (m + i) * ctx->lda + block->k0;
    return 1;
}

size_t bnn_sgemm_pack_a_panels(const float *a, size_t lda, size_t m, size_t count, size_t k0, size_t length,
                               float *panels, const float **rows) {
    for (size_t i0 = 0; i0 < count; i0 += BNN_SGEMM_MR) {
        size_t width = min_size(BNN_SGEMM_MR, count - i0);
        float *dst = panels + i0 * length;
        const float *src = a + k0 * lda + m + i0;
        for (size_t p = 0; p < length; ++p, src += lda, dst += BNN_SGEMM_MR) {
            for (size_t r = 0; r < width; ++r) dst[r] = src[r];
            for (size_t r = width; r < BNN_SGEMM_MR; ++r) dst[r] = 0;
        }
        for (size_t r = 0; r < width; ++r) rows[i0 + r] = panels + i0 * length + r;
    }
    return BNN_SGEMM_MR;
}

size_t bnn_sgemm_rows_transposed(void *context, size_t m, size_t count, const bnn_sgemm_kblock *block,
                                 const float **rows) {
    const bnn_sgemm_transposed_rows *ctx = context;
    if (ctx->lda <= BNN_SGEMM_DIRECT_LDA_MAX) {
        for (size_t i = 0; i < count; ++i) rows[i] = ctx->a + block->k0 * ctx->lda + m + i;
        return ctx->lda;
    }
    return bnn_sgemm_pack_a_panels(ctx->a, ctx->lda, m, count, block->k0, block->length, ctx->scratch, rows);
}

void bnn_sgemm_drive_packing(bnn_sgemm_microkernel_info kernel, const bnn_sgemm_kblock *block, bnn_sgemm_rows rows,
                             void *rows_context, bnn_sgemm_pack_panels pack, void *pack_context, float *panels,
                             float *c, size_t ldc, int accumulate, size_t m0, size_t m1, size_t n0, size_t n1) {
    const float *row[BNN_SGEMM_MC + BNN_SGEMM_MR_MAX];
    size_t panel_stride = (block->length + 1) * BNN_SGEMM_NR;
    for (size_t ic = m0; ic < m1; ic += BNN_SGEMM_MC) {
        size_t mc = min_size(BNN_SGEMM_MC, m1 - ic);
        size_t a_step = rows(rows_context, ic, mc, block, row);
        for (size_t r = mc; r < mc + BNN_SGEMM_MR_MAX; ++r) row[r] = row[0];
        for (size_t jr = n0; jr < n1; jr += kernel.nr) {
            size_t nr = min_size(kernel.nr, n1 - jr);
            pack(pack_context, block->k0, block->length, jr, nr, panels, panel_stride);
            for (size_t ir = 0; ir < mc; ir += kernel.mr) {
                kernel.run(block->length, row + ir, a_step, block->a_offsets, panels, panel_stride,
                           c + (ic + ir) * ldc + jr, ldc, min_size(kernel.mr, mc - ir), nr, accumulate);
            }
        }
    }
}

/// Panel source of `bnn_sgemm_streamed`: op(B) stored K×N, or N×K when `transposed`.
typedef struct {
    const float *b;
    size_t ldb;
    int transposed;
} matrix_panels;

static void pack_matrix_panels(void *context, size_t k0, size_t kc, size_t j, size_t width, float *panels,
                               size_t panel_stride) {
    const matrix_panels *ctx = context;
    for (size_t panel = 0; panel * BNN_SGEMM_NR < width; ++panel) {
        size_t j0 = j + panel * BNN_SGEMM_NR, w = min_size(BNN_SGEMM_NR, width - panel * BNN_SGEMM_NR);
        const float *source = ctx->transposed ? ctx->b + j0 * ctx->ldb + k0 : ctx->b + k0 * ctx->ldb + j0;
        bnn_sgemm_pack_b(ctx->transposed, w, kc, source, ctx->ldb, 0, 1, panels + panel * panel_stride);
    }
}

void bnn_sgemm_streamed(bnn_sgemm_kernel kernel, int trans_a, int trans_b, size_t k0, size_t k1,
                        const float *a, size_t lda, const float *b, size_t ldb,
                        float *c, size_t ldc, int accumulate, size_t m0, size_t m1, size_t n0, size_t n1) {
    if (m0 >= m1 || n0 >= n1) return;
    bnn_sgemm_microkernel_info micro = bnn_sgemm_select(kernel);
    size_t k = k1 > k0 ? k1 - k0 : 0;
    size_t block_capacity = (k + BNN_SGEMM_KC - 1) / BNN_SGEMM_KC;
    bnn_sgemm_kblock stack_blocks[64];
    bnn_sgemm_kblock *blocks = block_capacity <= 64 ? stack_blocks : bnn_sgemm_alloc(block_capacity * sizeof *blocks);
    size_t count = bnn_sgemm_split_k(k0, k, 0, blocks, 0);
    float *panels = bnn_sgemm_alloc(BNN_SGEMM_PAIR_FLOATS * sizeof(float));
    float *scratch = trans_a && lda > BNN_SGEMM_DIRECT_LDA_MAX
                         ? bnn_sgemm_alloc((BNN_SGEMM_MC + BNN_SGEMM_MR_MAX) * BNN_SGEMM_KC * sizeof(float))
                         : NULL;
    bnn_sgemm_transposed_rows transposed = {a, lda, scratch};
    matrix_rows plain = {a, lda};
    bnn_sgemm_rows rows = trans_a ? bnn_sgemm_rows_transposed : rows_of_matrix;
    void *rows_context = trans_a ? (void *)&transposed : (void *)&plain;
    matrix_panels source = {b, ldb, trans_b};
    if (count == 0) {
        bnn_sgemm_drive(micro, NULL, 0, rows, rows_context, panels, 0, n0, c, ldc, accumulate, m0, m1, n0, n1);
    }
    for (size_t bi = 0; bi < count; ++bi) {
        bnn_sgemm_drive_packing(micro, &blocks[bi], rows, rows_context, pack_matrix_panels, &source, panels, c, ldc,
                                accumulate || bi > 0, m0, m1, n0, n1);
    }
    free(scratch);
    free(panels);
    if (blocks != stack_blocks) free(blocks);
}

void bnn_sgemm_packed(bnn_sgemm_kernel kernel, int trans_a, size_t k,
                      const float *a, size_t lda, const float *packed_b,
                      float *c, size_t ldc, int accumulate,
                      size_t m0, size_t m1, size_t n0, size_t n1) {
    if (m0 >= m1 || n0 >= n1) return;
    size_t block_capacity = (k + BNN_SGEMM_KC - 1) / BNN_SGEMM_KC;
    bnn_sgemm_kblock stack_blocks[64];
    bnn_sgemm_kblock *blocks = block_capacity <= 64 ? stack_blocks : bnn_sgemm_alloc(block_capacity * sizeof *blocks);
    size_t count = bnn_sgemm_split_k(0, k, 0, blocks, 0);
    bnn_sgemm_microkernel_info micro = bnn_sgemm_select(kernel);
    if (!trans_a) {
        matrix_rows ctx = {a, lda};
        bnn_sgemm_drive(micro, blocks, count, rows_of_matrix, &ctx, packed_b, k * BNN_SGEMM_NR, 0, c, ldc,
                        accumulate, m0, m1, n0, n1);
    } else {
        float *scratch = lda > BNN_SGEMM_DIRECT_LDA_MAX
                             ? bnn_sgemm_alloc((BNN_SGEMM_MC + BNN_SGEMM_MR_MAX) * BNN_SGEMM_KC * sizeof(float))
                             : NULL;
        bnn_sgemm_transposed_rows ctx = {a, lda, scratch};
        bnn_sgemm_drive(micro, blocks, count, bnn_sgemm_rows_transposed, &ctx, packed_b, k * BNN_SGEMM_NR, 0,
                        c, ldc, accumulate, m0, m1, n0, n1);
        free(scratch);
    }
    if (blocks != stack_blocks) free(blocks);
}
