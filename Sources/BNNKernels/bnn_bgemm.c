// bfloat16 GEMM core: rounding, run-time kernel choice, the portable reference micro-kernel, B
// packing and the blocked loop nest (K blocks of 256 steps, M blocks of 192 rows whose A block is
// rounded into a scratch buffer, register tiles over 16-column B panels).
#include "bnn_bgemm_internal.h"
#include "bnn_cpu.h"

#include <stdlib.h>
#include <string.h>

static size_t min_size(size_t a, size_t b) { return a < b ? a : b; }

uint16_t bnn_bf16_from_float(float value) { return (uint16_t)bnn_bgemm_bf16_bits(bnn_bgemm_float_bits(value)); }

float bnn_float_from_bf16(uint16_t value) {
    uint32_t bits = (uint32_t)value << 16;
    float result;
    memcpy(&result, &bits, sizeof result);
    return result;
}

void bnn_bf16_round(const float *source, uint16_t *destination, size_t count) {
#if defined(__x86_64__) || defined(__i386__)
    if (count >= 64 && bnn_bgemm_cpu_has_avx512_bf16()) {
        bnn_bf16_round_avx512(source, destination, count);
        return;
    }
#endif
    for (size_t i = 0; i < count; ++i) destination[i] = bnn_bf16_from_float(source[i]);
}

void bnn_bgemm_pair_run(const float *low, const float *high, size_t count, uint32_t *dst) {
#if defined(__x86_64__) || defined(__i386__)
    if (count >= 64 && bnn_bgemm_cpu_has_avx512_bf16()) {
        bnn_bgemm_pair_run_avx512(low, high, count, dst);
        return;
    }
#endif
    for (size_t i = 0; i < count; ++i) dst[i] = bnn_bgemm_pair(low[i], high[i]);
}

int bnn_bgemm_hardware_available(void) {
#if defined(__x86_64__) || defined(__i386__)
    return bnn_bgemm_cpu_has_avx512_bf16();
#elif defined(__aarch64__)
    return bnn_bgemm_cpu_has_neon_bf16();
#else
    return 0;
#endif
}

int bnn_bgemm_kernel_available(bnn_bgemm_kernel kernel) {
    switch (kernel) {
    case BNN_BGEMM_REFERENCE: return 1;
#if defined(__x86_64__) || defined(__i386__)
    case BNN_BGEMM_AVX512_BF16: return bnn_bgemm_cpu_has_avx512_bf16();
#endif
#if defined(__aarch64__)
    case BNN_BGEMM_NEON_BF16: return bnn_bgemm_cpu_has_neon_bf16();
#endif
    default: return 0;
    }
}

bnn_bgemm_kernel bnn_bgemm_active_kernel(void) {
    if (bnn_cpu_features() == 0) return BNN_BGEMM_REFERENCE; // BNN_KERNELS=reference or forced
    if (bnn_bgemm_kernel_available(BNN_BGEMM_AVX512_BF16)) return BNN_BGEMM_AVX512_BF16;
    if (bnn_bgemm_kernel_available(BNN_BGEMM_NEON_BF16)) return BNN_BGEMM_NEON_BF16;
    return BNN_BGEMM_REFERENCE;
}

bnn_bgemm_microkernel_info bnn_bgemm_select(bnn_bgemm_kernel kernel) {
    bnn_bgemm_microkernel_info info = {bnn_bgemm_microkernel_reference, BNN_SGEMM_MR, BNN_BGEMM_NR, BNN_SGEMM_MR,
                                       BNN_SGEMM_MR};
    if (!bnn_bgemm_kernel_available(kernel)) return info;
    switch (kernel) {
#if defined(__x86_64__) || defined(__i386__)
    case BNN_BGEMM_AVX512_BF16:
        info.run = bnn_bgemm_microkernel_avx512;
        info.mr = 12;
        info.nr = 2 * BNN_BGEMM_NR;
        // A table tile runs as 8 rows plus 4, and 4 rows (8 accumulators) cannot cover the
        // latency of `vdpbf16ps` at two per cycle: 8-row tiles only.
        info.table_mr = 8;
        // One panel (16 columns or fewer) leaves room for 12 rows: 12 accumulators and 12 broadcasts.
        info.table_mr_narrow = 12;
        break;
#endif
#if defined(__aarch64__)
    case BNN_BGEMM_NEON_BF16: info.run = bnn_bgemm_microkernel_neon; break;
#endif
    default: break;
    }
    return info;
}

void bnn_bgemm_microkernel_reference(size_t pairs, const uint32_t *const *a, size_t a_step,
                                     const int32_t *a_offsets, const uint16_t *b, size_t b_panel_stride, float *c,
                                     size_t ldc, size_t mr, size_t nr, int accumulate) {
    (void)b_panel_stride; // one panel: nr ≤ 16
    float acc[BNN_SGEMM_MR][BNN_BGEMM_NR];
    memset(acc, 0, sizeof acc);
    for (size_t p = 0; p < pairs; ++p) {
        const uint16_t *bp = b + p * 2 * BNN_BGEMM_NR;
        size_t offset = a_offsets ? (size_t)a_offsets[p] : p * a_step;
        for (size_t r = 0; r < mr; ++r) {
            // Each product of two bfloat16 values is exact in single precision.
            uint32_t pair = a[r][offset];
            float x0 = bnn_float_from_bf16((uint16_t)pair), x1 = bnn_float_from_bf16((uint16_t)(pair >> 16));
            for (size_t j = 0; j < BNN_BGEMM_NR; ++j) {
                acc[r][j] += x0 * bnn_float_from_bf16(bp[2 * j]);
                acc[r][j] += x1 * bnn_float_from_bf16(bp[2 * j + 1]);
            }
        }
    }
    for (size_t r = 0; r < mr; ++r) {
        float *cr = c + r * ldc;
        for (size_t j = 0; j < nr; ++j) cr[j] = accumulate ? cr[j] + acc[r][j] : acc[r][j];
    }
}

size_t bnn_bgemm_packed_b_count(size_t n, size_t k) {
    return (n + BNN_BGEMM_NR - 1) / BNN_BGEMM_NR * BNN_BGEMM_NR * 2 * ((k + 1) / 2);
}

void bnn_bgemm_pack_b(int trans_b, size_t n, size_t k, const float *b, size_t ldb, size_t panel0, size_t panel1,
                      uint16_t *packed) {
#if defined(__x86_64__) || defined(__i386__)
    if (bnn_bgemm_cpu_has_avx512_bf16()) {
        bnn_bgemm_pack_b_avx512(trans_b, n, k, b, ldb, panel0, panel1, packed);
        return;
    }
#endif
    bnn_bgemm_pack_b_loop(trans_b, n, k, b, ldb, panel0, panel1, packed);
}

void bnn_bgemm_drive(bnn_bgemm_microkernel_info kernel, const bnn_sgemm_kblock *blocks, size_t block_count,
                     bnn_bgemm_rows rows, void *context, const uint16_t *packed_b, size_t b_panel_stride,
                     size_t b_col0, float *c, size_t ldc, int accumulate, size_t m0, size_t m1, size_t n0,
                     size_t n1) {
    if (m0 >= m1 || n0 >= n1) return;
    if (block_count == 0) {
        if (!accumulate) {
            for (size_t i = m0; i < m1; ++i) memset(c + i * ldc + n0, 0, (n1 - n0) * sizeof(float));
        }
        return;
    }
    size_t stride = 0;
    for (size_t bi = 0; bi < block_count; ++bi) stride = blocks[bi].length > stride ? blocks[bi].length : stride;
    stride = (stride + 1) / 2 * 2;
    uint16_t *scratch = bnn_sgemm_alloc(BNN_SGEMM_MC * stride * sizeof(uint16_t));
    const uint32_t *row_pointers[BNN_SGEMM_MC];
    for (size_t ic = m0; ic < m1; ic += BNN_SGEMM_MC) {
        size_t mc = min_size(BNN_SGEMM_MC, m1 - ic);
        for (size_t bi = 0; bi < block_count; ++bi) {
            const bnn_sgemm_kblock *block = &blocks[bi];
            int add = accumulate || bi > 0;
            size_t pairs = (block->length + 1) / 2;
            size_t step = rows(context, ic, mc, block, scratch, stride, row_pointers);
            for (size_t jr = n0; jr < n1; jr += kernel.nr) {
                size_t nr = min_size(kernel.nr, n1 - jr);
                const uint16_t *bp = packed_b + (jr - b_col0) / BNN_BGEMM_NR * b_panel_stride + block->k0 * BNN_BGEMM_NR;
                for (size_t ir = 0; ir < mc; ir += kernel.mr) {
                    kernel.run(pairs, row_pointers + ir, step, NULL, bp, b_panel_stride, c + (ic + ir) * ldc + jr, ldc,
                               min_size(kernel.mr, mc - ir), nr, add);
                }
            }
        }
    }
    free(scratch);
}

size_t bnn_bgemm_rows_matrix(void *context, size_t m, size_t count, const bnn_sgemm_kblock *block, uint16_t *scratch,
                             size_t stride, const uint32_t **rows) {
    const bnn_bgemm_matrix *source = context;
    size_t length = block->length;
    if (!source->transposed) {
        for (size_t i = 0; i < count; ++i) {
            rows[i] = (const uint32_t *)(const void *)(scratch + i * stride);
            bnn_bf16_round(source->a + (m + i) * source->lda + block->k0, scratch + i * stride, length);
            if (length % 2) scratch[i * stride + length] = 0;
        }
        return 1;
    }
    // A stored K×M: two rows of A (contiguous along M) make pair row q of the scratch in one
    // vector loop ([pairs][count]); row i reads its pairs `count` apart, so nothing is transposed.
    static const float zeros[BNN_SGEMM_MC] = {0};
    uint32_t *pairs = (uint32_t *)(void *)scratch;
    for (size_t p = 0, q = 0; p < length; p += 2, ++q) {
        const float *low = source->a + (block->k0 + p) * source->lda + m;
        bnn_bgemm_pair_run(low, p + 1 < length ? low + source->lda : zeros, count, pairs + q * count);
    }
    for (size_t i = 0; i < count; ++i) rows[i] = pairs + i;
    return count;
}

void bnn_bgemm_packed(bnn_bgemm_kernel kernel, int trans_a, size_t k, const float *a, size_t lda,
                      const uint16_t *packed_b, float *c, size_t ldc, int accumulate,
                      size_t m0, size_t m1, size_t n0, size_t n1) {
    if (m0 >= m1 || n0 >= n1) return;
    size_t capacity = (k + BNN_SGEMM_KC - 1) / BNN_SGEMM_KC;
    bnn_sgemm_kblock stack_blocks[64];
    bnn_sgemm_kblock *blocks = capacity <= 64 ? stack_blocks : bnn_sgemm_alloc(capacity * sizeof *blocks);
    size_t count = bnn_sgemm_split_k_even(0, k, 0, blocks, 0); // every block starts on a pair
    bnn_bgemm_matrix source = {a, lda, trans_a};
    bnn_bgemm_drive(bnn_bgemm_select(kernel), blocks, count, bnn_bgemm_rows_matrix, &source, packed_b,
                    2 * ((k + 1) / 2) * BNN_BGEMM_NR, 0, c, ldc, accumulate, m0, m1, n0, n1);
    if (blocks != stack_blocks) free(blocks);
}
