#ifndef BNN_SGEMM_H
#define BNN_SGEMM_H

#include <stddef.h>
#include <stdint.h>

/// Single-precision GEMM and convolution kernels on row-major data.
///
/// Every optimised micro-kernel (AVX-512 or AVX2+FMA on x86_64, NEON on arm64) has a portable
/// reference twin that shares the same packing and blocking; the variant is an explicit argument
/// so that tests can compare them in one process, and `bnn_sgemm_active_kernel()` picks the best one the CPU
/// (and `bnn_cpu_features()`) allows. All entry points work on one tile range of the output so the
/// caller can split the work across threads; they never start threads themselves.
///
/// Matrices are row-major with explicit row strides (`ld*`, in floats). `op(A)` is M×K and `op(B)`
/// is K×N; `trans_a` / `trans_b` nonzero means the operand is stored transposed (A as K×M, B as
/// N×K). `accumulate` nonzero computes `C += op(A)·op(B)`, zero computes `C = op(A)·op(B)`.
/// Sums run in single precision (FMA in the SIMD variants) per K block of at most 256 steps, so
/// every variant is within about `K · 2⁻²⁴ · Σ|aᵢₖ·bₖⱼ|` of the exact product.

/// The micro-kernel families.
typedef enum {
    BNN_SGEMM_REFERENCE = 0, ///< portable C, any CPU
    BNN_SGEMM_AVX2_FMA = 1,  ///< x86_64 AVX2 + FMA, 6×16 register block
    BNN_SGEMM_NEON = 2,      ///< arm64 Advanced SIMD, 6×16 register block
    BNN_SGEMM_AVX512 = 3,    ///< x86_64 AVX-512F, 12×32 register block over two B panels
} bnn_sgemm_kernel;

/// Rows of a packed A panel and of the smallest register block.
#define BNN_SGEMM_MR 6
/// Width of a packed B panel (the register blocks span one or two panels).
#define BNN_SGEMM_NR 16
/// Row granularity at which threads should split M (a multiple of every register block).
#define BNN_SGEMM_TILE_M 12
/// Column granularity at which threads should split N (a multiple of every register block).
#define BNN_SGEMM_TILE_N 32

/// The fastest kernel allowed by `bnn_cpu_features()` (reference when forced); AVX-512 is chosen
/// when the CPU has AVX-512F and the AVX2 family is enabled.
bnn_sgemm_kernel bnn_sgemm_active_kernel(void);

/// Nonzero when `kernel` can run on this CPU (the reference always can).
int bnn_sgemm_kernel_available(bnn_sgemm_kernel kernel);

/// Atomically adds 1 to `*counter` and returns its previous value: threads claim pieces of work
/// from a shared counter so that a thread slowed down by other load does not hold up the rest.
size_t bnn_sgemm_claim(size_t *counter);

/// `C (+)= op(A)·op(B)` with plain loops and no packing: the fast path for tiny products and a
/// simple oracle. Single-threaded.
void bnn_sgemm_naive(int trans_a, int trans_b, size_t m, size_t n, size_t k,
                     const float *a, size_t lda, const float *b, size_t ldb,
                     float *c, size_t ldc, int accumulate);

/// Floats needed by a packed B of K×N: `ceil(N / 16) · 16 · K`.
size_t bnn_sgemm_packed_b_count(size_t n, size_t k);

/// Packs panels `[panel0, panel1)` (each 16 columns of op(B), zero-filled past N) of the K×N
/// operand op(B) into `packed`, laid out as `[panel][K][16]`. Panels are independent, so threads
/// may pack disjoint panel ranges of one buffer.
void bnn_sgemm_pack_b(int trans_b, size_t n, size_t k, const float *b, size_t ldb,
                      size_t panel0, size_t panel1, float *packed);

/// `C[m0..<m1, n0..<n1] (+)= op(A)·op(B)` for a B packed by `bnn_sgemm_pack_b` (K×N). `n0` must be
/// a multiple of 16. A transposed A is read in place when `lda` ≤ 256, else packed into a small
/// scratch block.
void bnn_sgemm_packed(bnn_sgemm_kernel kernel, int trans_a, size_t k,
                      const float *a, size_t lda, const float *packed_b,
                      float *c, size_t ldc, int accumulate,
                      size_t m0, size_t m1, size_t n0, size_t n1);

/// Largest M for which `bnn_sgemm_streamed` should be used instead of packing B whole: every
/// element of B then meets all M rows in one block, so a packed copy of B is read only once.
#define BNN_SGEMM_STREAMED_M_MAX 192

/// `C[m0..<m1, n0..<n1] (+)= op(A)[:, k0..<k1]·op(B)[k0..<k1, :]` packing op(B) one or two
/// 16-column panels of a K block (at most 256 steps) at a time, into a buffer that stays in L1,
/// right before the row tiles of `[m0, m1)` use them, instead of packing B whole first: for products
/// with few rows (M ≤ BNN_SGEMM_STREAMED_M_MAX) such as weight gradients, whose B is used by one
/// block of rows. A
/// transposed A (stored K×M) is read in place when `lda` ≤ 256, else packed per block. `n0` must be
/// a multiple of 16. A K range `[k0, k1)` lets threads sum disjoint parts of K into separate
/// outputs. Allocates its scratch blocks.
void bnn_sgemm_streamed(bnn_sgemm_kernel kernel, int trans_a, int trans_b, size_t k0, size_t k1,
                        const float *a, size_t lda, const float *b, size_t ldb,
                        float *c, size_t ldc, int accumulate, size_t m0, size_t m1, size_t n0, size_t n1);

/// The sizes of a 2-D convolution on N×H×W×C input with O×kH×kW×C weights and N×OH×OW×O output;
/// symmetric zero padding of `padding` on every side.
typedef struct {
    size_t batch, height, width, channels, out_channels, kernel_h, kernel_w, stride, padding;
} bnn_conv_shape;

/// Output height `(H + 2·padding − kH) / stride + 1`.
size_t bnn_sconv_out_height(const bnn_conv_shape *s);
/// Output width `(W + 2·padding − kW) / stride + 1`.
size_t bnn_sconv_out_width(const bnn_conv_shape *s);

/// Nonzero when the output has so few pixels (at most one row block, e.g. 7×7 at batch 1) that
/// `bnn_sconv_forward_direct_small` on the unpacked weights beats packing them first.
int bnn_sconv_prefers_unpacked_weight(const bnn_conv_shape *s);

/// Floats of the zero-padded input, N×(H+2p)×(W+2p)×C.
size_t bnn_sconv_padded_count(const bnn_conv_shape *s);

/// Writes images `[image0, image1)` of the zero-padded copy of `input` into `padded`.
void bnn_sconv_pad_input(const bnn_conv_shape *s, const float *input, size_t image0, size_t image1,
                         float *padded);

/// Forward rows `[m0, m1)` (output pixels over the batch, `image·OH·OW + oy·OW + ox`) and output
/// channels `[n0, n1)` (`n0` a multiple of 16) reading patches straight from the padded input made
/// by `bnn_sconv_pad_input` (or the input itself when `padding == 0`): each kernel row (kW·C
/// contiguous floats) is a K block of its own, or, when kW·C < 64 such as the 3-channel stem, the
/// whole patch is read through a table of tap offsets; nothing is gathered. `packed_weight` is the
/// O×(kH·kW·C) weight packed with `bnn_sgemm_pack_b(1, O, kH·kW·C, …)`. Overwrites the output.
void bnn_sconv_forward_direct(bnn_sgemm_kernel kernel, const bnn_conv_shape *s, const float *padded,
                              const float *packed_weight, float *output,
                              size_t m0, size_t m1, size_t n0, size_t n1);

/// The same as `bnn_sconv_forward_direct` for few output pixels (a small batch of small images),
/// from the unpacked O×(kH·kW·C) `weight`: each K block of 32 output channels is packed into a
/// small buffer right before the row tiles use it, so the weights are read once and no packed
/// copy is written (which doubled the memory traffic of a 512-channel 7×7 layer at batch 1).
/// Allocates 32 KiB of scratch.
void bnn_sconv_forward_direct_small(bnn_sgemm_kernel kernel, const bnn_conv_shape *s, const float *padded,
                                    const float *weight, float *output, size_t m0, size_t m1, size_t n0, size_t n1);

/// Weight gradient columns `[n0, n1)` of the O×(kH·kW·C) matrix (`n0` a multiple of 16) over the
/// output pixels `[pixel0, pixel1)` of the batch (`image·OH·OW + oy·OW + ox`):
/// `dW[:, n0..<n1] (+)= Σ over those pixels of dYᵀ · patches`, from the unpadded input and the
/// N×OH×OW×O output gradient. Threads may split the columns, or the pixels into separate
/// outputs that are added afterwards. The output gradient is read in place when O ≤ 256; the
/// patches are gathered (tap by tap when C is a multiple of 16) into the one or two B panels of
/// each register tile, 256 pixels at a time, right before use. Allocates its scratch blocks.
void bnn_sconv_backward_weight(bnn_sgemm_kernel kernel, const bnn_conv_shape *s, const float *input,
                               const float *output_gradient, float *weight_gradient, int accumulate,
                               size_t pixel0, size_t pixel1, size_t n0, size_t n1);

/// The same sum as `bnn_sconv_backward_weight` (columns `[n0, n1)` of the weight gradient, any
/// bounds), for the wide early layers, from the input zero-padded by `s->padding`
/// (N×(H+2p)×(W+2p)×C, fewer than 2³¹ floats): computed as `dWᵀ = patchesᵀ · dY`, whose A rows (one
/// per tap and input channel) are read straight from the padded input through one offset per
/// output pixel, so nothing is gathered; the output gradient of each block of 256 pixels is packed
/// into panels (O floats per pixel, little next to the products it feeds). The sum is made in an
/// (n1−n0)×O scratch block and added, transposed, into `weight_gradient` (O×(kH·kW·C)), or stored
/// there when `accumulate` is 0. Threads may split the columns, or the pixels into separate
/// outputs that are added afterwards. Allocates its scratch blocks.
void bnn_sconv_backward_weight_padded(bnn_sgemm_kernel kernel, const bnn_conv_shape *s, const float *padded,
                                      const float *output_gradient, float *weight_gradient, int accumulate,
                                      size_t pixel0, size_t pixel1, size_t n0, size_t n1);

/// Packs panels `[panel0, panel1)` of the weight of the stride-1 input gradient, which is a
/// convolution of the output gradient with the weight flipped in space and transposed to
/// C×kH×kW×O: the packed operand is K×N with K = kH·kW·O and N = C, element
/// `((ty·kW + tx)·O + o, c) = weight[o][kH−1−ty][kW−1−tx][c]`, laid out like `bnn_sgemm_pack_b`.
void bnn_sconv_pack_flipped_weight(const bnn_conv_shape *s, const float *weight, size_t panel0, size_t panel1,
                                   float *packed);

/// Adds the patch gradients `columns` (OH·OW rows of kH·kW·C) of image `image` into channels
/// `[c0, c1)` of `input_gradient` (col2im). Disjoint channel ranges may run concurrently.
void bnn_sconv_col2im(const bnn_conv_shape *s, const float *columns, size_t image,
                      float *input_gradient, size_t c0, size_t c1);

#endif
