// Private declarations shared by the bnn_sgemm*.c files: blocking sizes, the micro-kernel
// signature and the blocked driver that every SGEMM and convolution entry point runs on.
#ifndef BNN_SGEMM_INTERNAL_H
#define BNN_SGEMM_INTERNAL_H

#include "bnn_sgemm.h"

/// Largest K block: a 16-column B micro-panel of 256 rows (16 KiB) stays in L1.
#define BNN_SGEMM_KC 256
/// Rows of A per block (a multiple of MR): 192 rows × 256 floats (192 KiB) stay in L2.
#define BNN_SGEMM_MC 192

/// Computes a register tile `C (+)= A·B̃` over `kc` steps. `a` holds the tile's row pointers;
/// element `p` of row `r` is `a[r][p · a_step]` (1 for rows contiguous along K, MR for a packed A
/// panel), or `a[r][a_offsets[p]]` when `a_offsets` is set (the taps of a convolution patch read
/// straight from the padded input); rows past `mr` repeat a valid row and are not stored. `b` is a packed micro-panel
/// `[kc][16]`, the next panel (columns 16…31, only read when `nr` > 16) starts `b_panel_stride`
/// floats later; only the top-left `mr`×`nr` part of C is written.
typedef void (*bnn_sgemm_microkernel)(size_t kc, const float *const *a, size_t a_step, const int32_t *a_offsets,
                                      const float *b, size_t b_panel_stride, float *c, size_t ldc, size_t mr,
                                      size_t nr, int accumulate);

/// A micro-kernel and its register tile.
typedef struct {
    bnn_sgemm_microkernel run;
    size_t mr, nr;
} bnn_sgemm_microkernel_info;

/// The largest register tile height of any micro-kernel.
#define BNN_SGEMM_MR_MAX 12

void bnn_sgemm_microkernel_reference(size_t kc, const float *const *a, size_t a_step, const int32_t *a_offsets,
                                     const float *b, size_t b_panel_stride, float *c, size_t ldc, size_t mr, size_t nr,
                                     int accumulate);
#if defined(__x86_64__) || defined(__i386__)
void bnn_sgemm_microkernel_avx2(size_t kc, const float *const *a, size_t a_step, const int32_t *a_offsets,
                                const float *b, size_t b_panel_stride, float *c, size_t ldc, size_t mr, size_t nr,
                                int accumulate);
void bnn_sgemm_microkernel_avx512(size_t kc, const float *const *a, size_t a_step, const int32_t *a_offsets,
                                  const float *b, size_t b_panel_stride, float *c, size_t ldc, size_t mr, size_t nr,
                                  int accumulate);
/// Packs the first multiple of 8 of `k` columns of 16 full rows of a transposed B (`rows`, row
/// stride `ldb`) into a panel `[k][16]` with 8×8 AVX2 transposes; returns how many it packed.
size_t bnn_sgemm_pack_panel_transposed_avx2(size_t k, const float *rows, size_t ldb, float *panel);
#endif
#if defined(__aarch64__)
void bnn_sgemm_microkernel_neon(size_t kc, const float *const *a, size_t a_step, const int32_t *a_offsets,
                                const float *b, size_t b_panel_stride, float *c, size_t ldc, size_t mr, size_t nr,
                                int accumulate);
#endif

/// `malloc` that aborts on exhaustion (scratch blocks are small; running out is not recoverable).
void *bnn_sgemm_alloc(size_t bytes);

/// Writes one row of a packed B panel: `width` (≤ 16) floats from `src`, then zeros up to 16.
void bnn_sgemm_copy_panel_row(float *dst, const float *src, size_t width);

/// The micro-kernel of `kernel`, or the reference one when that variant cannot run here.
bnn_sgemm_microkernel_info bnn_sgemm_select(bnn_sgemm_kernel kernel);

/// One block of the K dimension: rows `[k0, k0 + length)` of the packed B; `tag` and `offset`
/// tell the row provider where the block lies in its own source (e.g. kernel row and offset);
/// `a_offsets`, when set, holds the block's `length` element offsets within each A row (see
/// `bnn_sgemm_microkernel`).
typedef struct {
    size_t k0, length, tag, offset;
    const int32_t *a_offsets;
} bnn_sgemm_kblock;

/// Fills `rows[0..<count]` with pointers to rows `m ..< m + count` of A restricted to `block`
/// and returns the step between consecutive K elements of a row (see `bnn_sgemm_microkernel`).
typedef size_t (*bnn_sgemm_rows)(void *context, size_t m, size_t count, const bnn_sgemm_kblock *block,
                                 const float **rows);

/// Packs rows `[m, m + count)` × K range `[k0, k0 + length)` of a transposed A (stored K×M, row
/// stride `lda`) into MR-row panels `[panel][length][MR]` (rows past `count` are zero) and points
/// `rows` at them; returns the K step MR.
size_t bnn_sgemm_pack_a_panels(const float *a, size_t lda, size_t m, size_t count, size_t k0, size_t length,
                               float *panels, const float **rows);

/// Largest row stride (floats) of a transposed A that the micro-kernels read in place: a register
/// tile's elements of one K step are then a few contiguous floats, K steps `lda` floats apart. Wider
/// strides (4 KiB and up put every K step of a tile in the same L1 set) are packed into panels.
#define BNN_SGEMM_DIRECT_LDA_MAX 256

/// Row provider context of a transposed A (stored K×M, row stride `lda`): read in place when `lda`
/// ≤ BNN_SGEMM_DIRECT_LDA_MAX (K step `lda`), else each block is packed into MR-row panels in
/// `scratch`, which holds (BNN_SGEMM_MC + BNN_SGEMM_MR_MAX) × BNN_SGEMM_KC floats.
typedef struct {
    const float *a;
    size_t lda;
    float *scratch;
} bnn_sgemm_transposed_rows;

/// The `bnn_sgemm_rows` provider of a `bnn_sgemm_transposed_rows` context.
size_t bnn_sgemm_rows_transposed(void *context, size_t m, size_t count, const bnn_sgemm_kblock *block,
                                 const float **rows);

/// Splits `length` into near-equal blocks of at most BNN_SGEMM_KC, appending them to `blocks`
/// (k0 = `k0` + running offset, tag = `tag`); returns the new count.
size_t bnn_sgemm_split_k(size_t k0, size_t length, size_t tag, bnn_sgemm_kblock *blocks, size_t count);

/// Splits `length` into blocks of exactly BNN_SGEMM_KC (the last one shorter), appending them like
/// `bnn_sgemm_split_k`: every block of an even `k0` then starts on an even step, as the bfloat16
/// kernels' K-step pairs need.
size_t bnn_sgemm_split_k_even(size_t k0, size_t length, size_t tag, bnn_sgemm_kblock *blocks, size_t count);

/// The blocked loop nest: `C[m0..<m1, n0..<n1] (+)= A·B̃` where B̃ is packed in 16-column panels
/// `[K][16]`, panel 0 (column `b_col0`) at `packed_b` and each next one `b_panel_stride` floats
/// later (16·K, or more to keep panels off the same cache sets); A comes block by block from `rows`.
void bnn_sgemm_drive(bnn_sgemm_microkernel_info kernel, const bnn_sgemm_kblock *blocks, size_t block_count,
                     bnn_sgemm_rows rows, void *context, const float *packed_b, size_t b_panel_stride,
                     size_t b_col0, float *c, size_t ldc, int accumulate,
                     size_t m0, size_t m1, size_t n0, size_t n1);

/// Writes op(B)'s rows `[k0, k0 + kc)` × columns `[j, j + width)` (`width` ≤ 32, `j` a multiple of
/// 16) into one or two 16-column panels `[kc][16]`, the second `panel_stride` floats after the
/// first, zero past `width`.
typedef void (*bnn_sgemm_pack_panels)(void *context, size_t k0, size_t kc, size_t j, size_t width, float *panels,
                                      size_t panel_stride);

/// Floats of the panel buffer of `bnn_sgemm_drive_packing`: two panels of a full K block, one
/// cache line apart from a multiple of 4 KiB.
#define BNN_SGEMM_PAIR_FLOATS (2 * (BNN_SGEMM_KC + 1) * BNN_SGEMM_NR)

/// One K block of `C[m0..<m1, n0..<n1] (+)= A·B` (`n0` a multiple of 16) with B packed on the fly:
/// per block of rows, A comes from `rows`, and the (one or two) panels of each register tile's
/// columns are written by `pack` into `panels` (BNN_SGEMM_PAIR_FLOATS floats, in L1) right before
/// that column's row tiles use them, so B is read once from where it lies and never written to a
/// packed copy in L2 or memory: the loop of products whose B meets few rows (weight gradients).
void bnn_sgemm_drive_packing(bnn_sgemm_microkernel_info kernel, const bnn_sgemm_kblock *block, bnn_sgemm_rows rows,
                             void *rows_context, bnn_sgemm_pack_panels pack, void *pack_context, float *panels,
                             float *c, size_t ldc, int accumulate, size_t m0, size_t m1, size_t n0, size_t n1);

/// Row provider context of the direct convolution pass over a zero-padded input.
typedef struct {
    const bnn_conv_shape *shape;
    const float *padded;
    size_t oh, ow, hp, wp;
} bnn_sconv_direct_rows;

/// The context of the direct pass over `padded` (made by `bnn_sconv_pad_input`).
bnn_sconv_direct_rows bnn_sconv_direct_rows_of(const bnn_conv_shape *s, const float *padded);

/// Row provider of the direct forward pass (a `bnn_sconv_direct_rows` context): kernel row `tag`
/// of a pixel's patch is kW·C contiguous floats of the padded input.
size_t bnn_sconv_rows_direct(void *context, size_t m, size_t count, const bnn_sgemm_kblock *block,
                             const float **rows);

/// The K blocks of the direct pass, as a `malloc`ed array of `*count` blocks: each kernel row
/// (kW·C contiguous floats, tagged with ky) split into blocks of at most BNN_SGEMM_KC, or, for
/// short kernel rows, the whole patch read through `*taps` (a `malloc`ed table of each entry's
/// offset from the pixel's top-left tap; NULL for kernel-row blocks). `pair_aligned` nonzero
/// makes every block start on an even K step (`bnn_sgemm_split_k_even`; odd kernel rows then go
/// through the tap table), as the bfloat16 kernels need.
bnn_sgemm_kblock *bnn_sconv_direct_kblocks(const bnn_conv_shape *s, int pair_aligned, size_t *count, int32_t **taps);

/// Columns of the bfloat16 weight gradient per B block (a multiple of 32): 256 pixels × 512 columns
/// (512 KiB) stay in L2 while every A block runs over them.
#define BNN_SCONV_NC 512

/// Writes the patches of pixels `[p0, p0 + kc)`, columns `[jc, jc + nc)` (`jc` a multiple of 16),
/// into 16-column panels `[kc][16]` of `b_block`, each next panel `panel_stride` floats later, zero
/// past `nc`; `patch_row` is scratch of `nc` floats rounded up to 16. When C and `nc` are multiples
/// of 16 the patches are copied tap by tap straight from the input, else pixel by pixel through
/// `patch_row`.
void bnn_sconv_gather_patch_panels(const bnn_conv_shape *s, const float *input, size_t p0, size_t kc, size_t jc,
                                   size_t nc, float *b_block, size_t panel_stride, float *patch_row);

#endif
