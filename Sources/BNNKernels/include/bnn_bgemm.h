#ifndef BNN_BGEMM_H
#define BNN_BGEMM_H

#include <stddef.h>
#include <stdint.h>

#include "bnn_sgemm.h"

/// Mixed-precision GEMM: bfloat16 operands, single-precision accumulation and results.
///
/// A bfloat16 value is the upper half of an IEEE single (8 exponent bits, 7 stored mantissa bits),
/// stored as `uint16_t`. The product of two bfloat16 values is exact in single precision, so these
/// kernels differ from an SGEMM of the rounded operands only in how the single-precision sums are
/// rounded: every variant is within about `K · 2⁻²⁴ · Σ|aᵢₖ·bₖⱼ|` of the exact product of the
/// rounded operands. Rounding the operands themselves costs a relative `2⁻⁸` per element.
///
/// The inputs stay single precision: B is rounded once while it is packed into panels, A is
/// rounded block by block (at most 192 rows × 256 steps) into a scratch buffer right before the
/// micro-kernels read it, so callers never hold bfloat16 copies of their tensors. Sub-normal
/// bfloat16 inputs may be flushed to zero by the AVX512-BF16 and NEON instructions.
///
/// Every optimised micro-kernel (AVX512-BF16 `vdpbf16ps`, NEON BF16 `BFDOT`) has a portable
/// reference twin over the same packing; the variant is an explicit argument so that tests can
/// compare them in one process. Entry points work on one tile range of the output so the caller can
/// split the work across threads; they never start threads themselves.

/// The bfloat16 micro-kernel families.
typedef enum {
    BNN_BGEMM_REFERENCE = 0,   ///< portable C, any CPU (slow: for checking, not for training)
    BNN_BGEMM_AVX512_BF16 = 1, ///< x86_64 AVX512-BF16 `vdpbf16ps`, 12×32 register block
    BNN_BGEMM_NEON_BF16 = 2,   ///< arm64 BF16 extension `BFDOT`, 6×16 register block
} bnn_bgemm_kernel;

/// Width of a packed B panel in columns.
#define BNN_BGEMM_NR 16

/// The bfloat16 kernel of this CPU: AVX512-BF16 or NEON BF16 when the CPU has the instructions and
/// the optimised kernels are allowed (`bnn_cpu_features()`), else the reference.
bnn_bgemm_kernel bnn_bgemm_active_kernel(void);

/// Nonzero when `kernel` can run on this CPU (the reference always can).
int bnn_bgemm_kernel_available(bnn_bgemm_kernel kernel);

/// Nonzero when the CPU has bfloat16 dot-product instructions that a kernel here uses, whatever
/// `BNN_KERNELS` says.
int bnn_bgemm_hardware_available(void);

/// `value` rounded to the nearest bfloat16, ties to even; infinities stay infinite, NaNs stay NaN
/// (quiet), values beyond the largest bfloat16 round to infinity as IEEE rounding does.
uint16_t bnn_bf16_from_float(float value);

/// The single-precision value of a bfloat16 (exact).
float bnn_float_from_bf16(uint16_t value);

/// Rounds `count` floats to bfloat16 (`bnn_bf16_from_float` on each).
void bnn_bf16_round(const float *source, uint16_t *destination, size_t count);

/// `uint16_t` elements of a packed B of K×N: `ceil(N / 16) · 16 · 2 · ceil(K / 2)`.
size_t bnn_bgemm_packed_b_count(size_t n, size_t k);

/// Rounds and packs panels `[panel0, panel1)` of the K×N operand op(B) (B stored N×K when
/// `trans_b` is nonzero) into `packed`, laid out `[panel][K / 2][16 columns][2 K steps]` with
/// zeros past N and past K. Panels are independent, so threads may pack disjoint ranges.
void bnn_bgemm_pack_b(int trans_b, size_t n, size_t k, const float *b, size_t ldb, size_t panel0, size_t panel1,
                      uint16_t *packed);

/// `C[m0..<m1, n0..<n1] (+)= op(A)·B̃` with A single precision (M×K, or K×M when `trans_a` is set)
/// rounded to bfloat16 block by block, B̃ packed by `bnn_bgemm_pack_b` (K×N), `n0` a multiple
/// of 16. Allocates its scratch block.
void bnn_bgemm_packed(bnn_bgemm_kernel kernel, int trans_a, size_t k, const float *a, size_t lda,
                      const uint16_t *packed_b, float *c, size_t ldc, int accumulate,
                      size_t m0, size_t m1, size_t n0, size_t n1);

/// Rounds panels `[panel0, panel1)` of a K×N operand packed in single precision by
/// `bnn_sgemm_pack_b` (or `bnn_sconv_pack_flipped_weight`: `[panel][K][16]`) into the bfloat16
/// layout of `bnn_bgemm_pack_b`.
void bnn_bgemm_pack_from_panels(const float *panels, size_t k, size_t panel0, size_t panel1, uint16_t *packed);

/// `uint16_t` values of the operand `bnn_bconv_pad_round_input` writes for `s`: the padded input
/// (`bnn_sconv_padded_count`) and two zeros, then, when C and the stride are odd, a copy shifted by
/// one value (in which a patch at an odd position starts on a whole pair) and two zeros.
size_t bnn_bconv_rounded_count(const bnn_conv_shape *s);

/// Writes images `[image0, image1)` of the input zero-padded by `s->padding` on every side and
/// rounded to bfloat16 (the layout of `bnn_sconv_pad_input`, and its shifted copy when there is
/// one; `bnn_bconv_rounded_count` values in all) into `rounded`: the operand of
/// `bnn_bconv_forward_direct`, made in one pass without a single-precision padded copy. Calls on
/// disjoint image ranges may run on several threads.
void bnn_bconv_pad_round_input(const bnn_conv_shape *s, const float *input, size_t image0, size_t image1,
                               uint16_t *rounded);

/// K of the weight operand of `bnn_bconv_forward_direct` for `s`: kH·kW·C, or kH·(kW·C + 1) when
/// kernel rows of an odd length kW·C are read in place with one zero weight step after each (short
/// rows, e.g. a 7×7 stem or a 3×3 convolution on 3 channels).
/// Depends on the kernel, stride and channels of `s` only, not on the input size.
size_t bnn_bconv_direct_patch_size(const bnn_conv_shape *s);

/// Rounds and packs panels `[panel0, panel1)` of the O×(kH·kW·C) `weight` (row-major, as
/// `bnn_bgemm_pack_b(1, O, kH·kW·C, …)` reads it) into the operand of `bnn_bconv_forward_direct`:
/// `bnn_bgemm_packed_b_count(O, bnn_bconv_direct_patch_size(s))` elements, with the zero weight
/// steps that layout has.
void bnn_bconv_pack_direct_weight(const bnn_conv_shape *s, const float *weight, size_t panel0, size_t panel1,
                                  uint16_t *packed);

/// The bfloat16 twin of `bnn_sconv_forward_direct`: output rows `[m0, m1)` and channels `[n0, n1)`
/// (`n0` a multiple of 16) from `rounded`, the zero-padded input rounded to bfloat16 once per call
/// (`bnn_bconv_pad_round_input`), and the weight packed by `bnn_bconv_pack_direct_weight`.
/// Overwrites the output. Nothing is rounded per block or per thread: short kernel rows that start
/// on whole pairs are read in place through a table of pair offsets, one micro-kernel call over
/// the whole patch (a row of odd length with the next value of its padded row against a zero
/// weight, so a non-finite input value also reaches the output pixel whose patch ends just before
/// it); long kernel rows of an even channel count are read in place block by block; other patches
/// are copied block by block.
void bnn_bconv_forward_direct(bnn_bgemm_kernel kernel, const bnn_conv_shape *s, const uint16_t *rounded,
                              const uint16_t *packed_weight, float *output, size_t m0, size_t m1, size_t n0,
                              size_t n1);

/// The bfloat16 twin of `bnn_sconv_backward_weight`: weight gradient columns `[n0, n1)` (`n0` a
/// multiple of 16) `(+)= Σ over all pixels of dYᵀ · patches` with both operands rounded to
/// bfloat16 block by block and the sums in single precision. Allocates its scratch blocks.
void bnn_bconv_backward_weight(bnn_bgemm_kernel kernel, const bnn_conv_shape *s, const float *input,
                               const float *output_gradient, float *weight_gradient, int accumulate, size_t n0,
                               size_t n1);

/// K steps of the paired weight gradient: pairs of horizontally adjacent output pixels of each output
/// row (`ceil(OW / 2)` per row, the last one of an odd row alone), over the batch: N·OH·⌈OW/2⌉.
size_t bnn_bconv_weight_pair_count(const bnn_conv_shape *s);

/// Writes images `[image0, image1)` of the paired copy of the input zero-padded by `s->padding`
/// (`bnn_sconv_padded_count` words, the layout of `bnn_sconv_pad_input`): word `i` holds padded
/// value `i` rounded to bfloat16 in its low half and, in its high half, the value `stride · C`
/// further along the same padded row (the same tap of the next output pixel to the right; 0 past
/// the row's end), so one 32-bit load gives a K-step pair of the weight gradient.
void bnn_bconv_pair_input(const bnn_conv_shape *s, const float *input, size_t image0, size_t image1, uint32_t *pairs);

/// `bnn_bconv_pair_input` of ±1 signs packed along channels (`PackedActivations`: ⌈C/64⌉ words per
/// pixel, channel `c` bit `c % 64` of word `c / 64`, a set bit for −1), stored with a border of
/// `margin` ≥ `s->padding` pixels: the paired, zero-padded signs in bfloat16 (±1 exact) without a
/// single-precision copy.
void bnn_bconv_pair_signs(const bnn_conv_shape *s, const uint64_t *words, size_t margin, size_t image0, size_t image1,
                          uint32_t *pairs);

/// The bfloat16 twin of `bnn_sconv_backward_weight_padded`: weight gradient columns `[n0, n1)` (any
/// range) `(+)=` the sum over pixel pairs `[pair0, pair1)` (`bnn_bconv_weight_pair_count`) of
/// `dYᵀ · patches`, computed as `patchesᵀ · dY` with `patchesᵀ` read in place from `pairs`
/// (`bnn_bconv_pair_input`) through one offset per pair and the output gradient rounded to
/// bfloat16 block by block; sums in single precision. Stores instead of adding when `accumulate` is
/// 0. The padded count must fit in `int32_t`. Allocates its scratch blocks.
void bnn_bconv_backward_weight_paired(bnn_bgemm_kernel kernel, const bnn_conv_shape *s, const uint32_t *pairs,
                                      const float *output_gradient, float *weight_gradient, int accumulate,
                                      size_t pair0, size_t pair1, size_t n0, size_t n1);

/// Register-only peak of `vdpbf16ps`: floating-point operations performed (a multiply-add counts
/// 2, so one 512-bit instruction counts 64), 0 when the CPU lacks AVX512-BF16.
double bnn_probe_bf16_dot512(int64_t iterations, float *sink);

#endif
