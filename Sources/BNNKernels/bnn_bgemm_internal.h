// Private declarations shared by the bnn_bgemm*.c files: the bfloat16 micro-kernel signature, the
// variants and the blocked driver.
#ifndef BNN_BGEMM_INTERNAL_H
#define BNN_BGEMM_INTERNAL_H

#include "bnn_bgemm.h"
#include "bnn_sgemm_internal.h"

#include <string.h>

/// Computes a register tile `C (+)= A·B̃` over `pairs` pairs of K steps. `a` holds the tile's row
/// pointers; pair `q` of row `r` (two bfloat16 K steps in one 32-bit word, the lower step in the low
/// half) is `a[r][q · a_step]`, or `a[r][a_offsets[q]]` when `a_offsets` is set (the pixel pairs of a
/// weight gradient read straight from a paired, padded input; then `mr` ≤ the kernel's `table_mr`,
/// or `table_mr_narrow` when `nr` ≤ 16);
/// rows past `mr` are never read. `b` is
/// a packed micro-panel `[pairs][16][2]`; the next panel (columns 16…31, only read when `nr` > 16)
/// starts `b_panel_stride` elements later; only the top-left `mr`×`nr` part of C is written.
typedef void (*bnn_bgemm_microkernel)(size_t pairs, const uint32_t *const *a, size_t a_step, const int32_t *a_offsets,
                                      const uint16_t *b, size_t b_panel_stride, float *c, size_t ldc, size_t mr,
                                      size_t nr, int accumulate);

/// A micro-kernel, its register tile, and the tile heights to use with a table of pair offsets
/// (`table_mr` ≤ `mr`: the rows that keep every accumulator's chain of dependent products long
/// enough apart when each row's pair is loaded through the table; `table_mr_narrow` ≤ `mr` the same
/// for 16 columns or fewer).
typedef struct {
    bnn_bgemm_microkernel run;
    size_t mr, nr, table_mr, table_mr_narrow;
} bnn_bgemm_microkernel_info;

void bnn_bgemm_microkernel_reference(size_t pairs, const uint32_t *const *a, size_t a_step,
                                     const int32_t *a_offsets, const uint16_t *b, size_t b_panel_stride, float *c,
                                     size_t ldc, size_t mr, size_t nr, int accumulate);
#if defined(__x86_64__) || defined(__i386__)
void bnn_bgemm_microkernel_avx512(size_t pairs, const uint32_t *const *a, size_t a_step, const int32_t *a_offsets,
                                  const uint16_t *b, size_t b_panel_stride, float *c, size_t ldc, size_t mr, size_t nr,
                                  int accumulate);
/// Whether the CPU has AVX-512F and AVX512-BF16.
int bnn_bgemm_cpu_has_avx512_bf16(void);
#endif
#if defined(__aarch64__)
void bnn_bgemm_microkernel_neon(size_t pairs, const uint32_t *const *a, size_t a_step, const int32_t *a_offsets,
                                const uint16_t *b, size_t b_panel_stride, float *c, size_t ldc, size_t mr, size_t nr,
                                int accumulate);
/// Whether the CPU has the Armv8.6 BF16 extension.
int bnn_bgemm_cpu_has_neon_bf16(void);
#endif

/// The bfloat16 of single-precision bits, in the low 16 bits: to nearest, ties to even, a NaN stays
/// a (quiet) NaN; branch-free so that loops of it vectorise.
static inline uint32_t bnn_bgemm_bf16_bits(uint32_t bits) {
    uint32_t rounded = (bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16;
    uint32_t quiet_nan = (bits >> 16) | 0x0040u;
    return (bits & 0x7fffffffu) > 0x7f800000u ? quiet_nan : rounded;
}

/// The bits of a single-precision value.
static inline uint32_t bnn_bgemm_float_bits(float value) {
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    return bits;
}

/// Two single-precision values rounded to bfloat16 and packed into one 32-bit word (`low` in the
/// low half): a K-step pair as the micro-kernels read it.
static inline uint32_t bnn_bgemm_pair(float low, float high) {
    return bnn_bgemm_bf16_bits(bnn_bgemm_float_bits(low)) | bnn_bgemm_bf16_bits(bnn_bgemm_float_bits(high)) << 16;
}

/// `dst[i]` = the pair of `low[i]` and `high[i]` rounded to bfloat16 (`bnn_bgemm_pair`) for `i` <
/// `count`: on AVX-512 CPUs in a copy of the loop compiled for 512-bit vectors (the same integer
/// rounding, bit for bit), elsewhere in the portable one.
void bnn_bgemm_pair_run(const float *low, const float *high, size_t count, uint32_t *dst);

#if defined(__x86_64__) || defined(__i386__)
/// The AVX-512 copies of the rounding loops of `bnn_bf16_round` and `bnn_bgemm_pair_run`; call only
/// when `bnn_bgemm_cpu_has_avx512_bf16()`.
void bnn_bf16_round_avx512(const float *source, uint16_t *destination, size_t count);
void bnn_bgemm_pair_run_avx512(const float *low, const float *high, size_t count, uint32_t *dst);
/// The paired bfloat16 signs (±1) of `pixels` consecutive pixels of packed sign words (`low`, and
/// `high` for each pixel's partner, `words_per_pixel` words apart), `channels` (a multiple of 16)
/// words per pixel into `dst`: the AVX-512 interior loop of `bnn_bconv_pair_signs`.
void bnn_bgemm_pair_signs_run_avx512(const uint64_t *low, const uint64_t *high, size_t words_per_pixel,
                                     size_t pixels, size_t channels, uint32_t *dst);
#endif

/// The micro-kernel of `kernel`, or the reference one when that variant cannot run here.
bnn_bgemm_microkernel_info bnn_bgemm_select(bnn_bgemm_kernel kernel);

/// Points `rows[0..<count]` at the bfloat16 pairs of rows `[m, m + count)` of A restricted to K
/// block `block` (`block->k0` even) and returns the pair step of a row (see
/// `bnn_bgemm_microkernel`): straight into the provider's own bfloat16 data where it has them, else
/// rounded or copied into `scratch` (room for `count` ≤ BNN_SGEMM_MC rows of `stride` elements,
/// `stride` even: e.g. row `i` at `scratch + i · stride`, zero-padded to an even length, pair step 1;
/// or pair `q` of every row side by side, pair step `count`).
typedef size_t (*bnn_bgemm_rows)(void *context, size_t m, size_t count, const bnn_sgemm_kblock *block,
                                 uint16_t *scratch, size_t stride, const uint32_t **rows);

/// A single-precision A stored with rows along K (M×K), or along M (K×M) when `transposed`.
typedef struct {
    const float *a;
    size_t lda;
    int transposed;
} bnn_bgemm_matrix;

/// The `bnn_bgemm_rows` provider of a `bnn_bgemm_matrix` context: rounds the block into `scratch`.
size_t bnn_bgemm_rows_matrix(void *context, size_t m, size_t count, const bnn_sgemm_kblock *block, uint16_t *scratch,
                             size_t stride, const uint32_t **rows);

/// The blocked loop nest: `C[m0..<m1, n0..<n1] (+)= A·B̃` where B̃ is packed in 16-column
/// bfloat16 panels `[K / 2][16][2]` (every block's `k0` even), panel 0 (column `b_col0`) at
/// `packed_b` and each next one `b_panel_stride` elements later; A comes block by block from
/// `rows`, with a scratch block the driver allocates.
void bnn_bgemm_drive(bnn_bgemm_microkernel_info kernel, const bnn_sgemm_kblock *blocks, size_t block_count,
                     bnn_bgemm_rows rows, void *context, const uint16_t *packed_b, size_t b_panel_stride,
                     size_t b_col0, float *c, size_t ldc, int accumulate, size_t m0, size_t m1, size_t n0,
                     size_t n1);

/// The body of `bnn_bgemm_pack_b`, compiled by the portable and the AVX-512 files alike (the same
/// integer rounding, bit for bit).
static inline __attribute__((always_inline)) void bnn_bgemm_pack_b_loop(int trans_b, size_t n, size_t k, const float *b,
                                                                      size_t ldb, size_t panel0, size_t panel1,
                                                                      uint16_t *packed) {
    const size_t pairs = (k + 1) / 2;
    static const float zeros[BNN_BGEMM_NR] = {0};
    for (size_t panel = panel0; panel < panel1; ++panel) {
        // One 32-bit word per column and pair of K steps: the lower step in the low half.
        uint32_t *dst = (uint32_t *)(void *)(packed + panel * pairs * 2 * BNN_BGEMM_NR);
        size_t j0 = panel * BNN_BGEMM_NR;
        size_t width = j0 < n ? (n - j0 < BNN_BGEMM_NR ? n - j0 : BNN_BGEMM_NR) : 0;
        if (!trans_b) {
            for (size_t q = 0; q < pairs; ++q, dst += BNN_BGEMM_NR) {
                const float *low = b + 2 * q * ldb + j0;
                const float *high = 2 * q + 1 < k ? low + ldb : zeros;
                if (width == BNN_BGEMM_NR) {
                    for (size_t j = 0; j < BNN_BGEMM_NR; ++j) dst[j] = bnn_bgemm_pair(low[j], high[j]);
                } else {
                    for (size_t j = 0; j < BNN_BGEMM_NR; ++j) dst[j] = j < width ? bnn_bgemm_pair(low[j], high[j]) : 0;
                }
            }
        } else {
            for (size_t j = 0; j < BNN_BGEMM_NR; ++j) {
                if (j >= width) {
                    for (size_t q = 0; q < pairs; ++q) dst[q * BNN_BGEMM_NR + j] = 0;
                    continue;
                }
                const float *src = b + (j0 + j) * ldb;
                for (size_t q = 0; q < k / 2; ++q) dst[q * BNN_BGEMM_NR + j] = bnn_bgemm_pair(src[2 * q], src[2 * q + 1]);
                if (k % 2) dst[(pairs - 1) * BNN_BGEMM_NR + j] = bnn_bgemm_pair(src[k - 1], 0);
            }
        }
    }
}

#if defined(__x86_64__) || defined(__i386__)
/// `bnn_bgemm_pack_b` in 512-bit vectors; call only when `bnn_bgemm_cpu_has_avx512_bf16()`.
void bnn_bgemm_pack_b_avx512(int trans_b, size_t n, size_t k, const float *b, size_t ldb, size_t panel0,
                             size_t panel1, uint16_t *packed);
#endif
#endif
