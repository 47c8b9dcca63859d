/// Bit-packed binary (XNOR-popcount) kernels: sign-and-pack, weight packing, binary convolution
/// with exact zero-padding correction and a fused output transform.
///
/// Bit convention: a set bit stands for −1 (a negative value), a clear bit for +1. Words are
/// `uint64_t`; the channels of one pixel (or of one weight tap) occupy `bnn_binary_words(C)` words,
/// channel `c` in bit `c % 64` of word `c / 64`. Bits past the true channel count are always clear,
/// so they never count (both operands have them clear, their XOR is 0).
///
/// Every optimised kernel (`_avx2`, `_neon`) has a portable `_reference` twin; the plain entry
/// points choose one at run time through `bnn_cpu_features()`.
#ifndef BNN_BINARY_H
#define BNN_BINARY_H

#include <stdint.h>

/// Output channels per block of the packed weight layout (one kernel register tile).
#define BNN_BINARY_BLOCK 8

/// The number of 64-bit words holding `channels` bits: ceil(channels / 64).
static inline int64_t bnn_binary_words(int64_t channels) { return (channels + 63) / 64; }

/// `channels` rounded up to a whole number of weight blocks.
static inline int64_t bnn_binary_padded_channels(int64_t channels) {
    return (channels + BNN_BINARY_BLOCK - 1) / BNN_BINARY_BLOCK * BNN_BINARY_BLOCK;
}

/// Signs `rows` rows of `channels` floats (row-major) into `rows × bnn_binary_words(channels)`
/// words: bit = 1 where the value is < 0. Returns how many values could not be represented
/// exactly, i.e. were ±0 or NaN (their bit is 0, which stands for +1, whereas the float model
/// gives sign(0) = 0).
int64_t bnn_binary_pack_signs(const float *values, int64_t rows, int64_t channels, uint64_t *words);
/// Portable twin of `bnn_binary_pack_signs`.
int64_t bnn_binary_pack_signs_reference(const float *values, int64_t rows, int64_t channels, uint64_t *words);
/// AVX2 twin of `bnn_binary_pack_signs`; call only when `bnn_cpu_detected_features()` has
/// `BNN_CPU_AVX2_FMA_POPCNT`.
int64_t bnn_binary_pack_signs_avx2(const float *values, int64_t rows, int64_t channels, uint64_t *words);

/// Packs O×kH×kW×C latent weights (`taps` = kH·kW) into the blocked kernel layout and the side
/// tables the convolution needs.
///
/// - `blocked`: `bnn_binary_padded_channels(O) / 8` blocks of `K × 8` words, K = taps·words(C);
///   word `k = tap·words(C) + j` of output channel `o` sits at `((o/8)·K + k)·8 + o%8`. Channels
///   past O are zero.
/// - `tap_popcounts`: `taps × bnn_binary_padded_channels(O)` int32, the number of −1 signs of
///   each (tap, output channel): the correction for taps that fall into the zero padding.
/// - `alpha`: O floats, mean |W| over (kH, kW, C) per output channel (accumulated in double).
/// Returns the number of weights that were ±0 or NaN (packed as +1).
int64_t bnn_binary_pack_weights(const float *weights, int64_t out_channels, int64_t taps, int64_t channels,
                                uint64_t *blocked, int32_t *tap_popcounts, float *alpha);

/// Copies packed activations N×H×W×words into a zero-bordered N×(H+2p)×(W+2p)×words buffer, the
/// input layout of the optimised convolution kernels (border words are 0, i.e. +1; the kernels
/// subtract their contribution exactly).
void bnn_binary_pad_input(const uint64_t *input, int64_t batch, int64_t height, int64_t width, int64_t words,
                          int64_t padding, uint64_t *padded);

/// One binary convolution: operands, geometry and what to write.
///
/// Output value of pixel q and channel o, with `dot` the exact ±1 dot product over the valid
/// (non-padding) taps, i.e. the float convolution of the ±1 tensors with zero padding:
/// `v = scale[o]·dot + bias[o]` (float multiply, then add; bias 0 when NULL), then
/// `v += residual[q·O + o]` when `residual` is set, then `v = min(max(v, clamp_lo), clamp_hi)` when
/// `clamp` is nonzero.
typedef struct {
    int64_t batch, height, width, channels;        ///< input N, H, W, C
    int64_t out_channels, kernel_h, kernel_w;     ///< O, kH, kW
    int64_t stride, padding;                      ///< equal in both directions; symmetric padding
    int64_t out_h, out_w;                         ///< (H + 2p − kH)/s + 1, (W + 2p − kW)/s + 1
    const uint64_t *input;         ///< N×H×W×words(C) packed signs (reference kernel)
    const uint64_t *padded_input;  ///< `bnn_binary_pad_input` of `input` (optimised kernels); may be
                                   ///< NULL when padding is 0; when NULL with padding the reference runs
    const uint64_t *weights;       ///< blocked layout from `bnn_binary_pack_weights`
    const int32_t *tap_popcounts;  ///< from `bnn_binary_pack_weights`
    int32_t *dots;                 ///< if set: N×OH×OW×O raw integer dot products
    const float *scale;            ///< O floats; needed for `output` and `packed_output`
    const float *bias;             ///< O floats or NULL
    const float *residual;         ///< N×OH×OW×O floats or NULL
    int32_t clamp;                 ///< nonzero: clamp to [clamp_lo, clamp_hi]
    float clamp_lo, clamp_hi;
    float *output;                 ///< if set: N×OH×OW×O transformed floats
    uint64_t *packed_output;       ///< if set: N×OH×OW×words(O) signs of the transformed values
} bnn_binary_conv_params;

/// Computes output rows [row_begin, row_end) of the flattened N·OH rows (safe to call concurrently
/// on disjoint ranges). Returns how many transformed values were ±0 or NaN when `packed_output` is
/// set (0 otherwise).
int64_t bnn_binary_conv_rows(const bnn_binary_conv_params *params, int64_t row_begin, int64_t row_end);
/// Portable twin of `bnn_binary_conv_rows`: a direct loop over the valid taps only.
int64_t bnn_binary_conv_rows_reference(const bnn_binary_conv_params *params, int64_t row_begin, int64_t row_end);
/// AVX2 twin (4 pixels × 8 output channels register tile, vpshufb popcount); needs
/// `BNN_CPU_AVX2_FMA_POPCNT` in `bnn_cpu_detected_features()`.
int64_t bnn_binary_conv_rows_avx2(const bnn_binary_conv_params *params, int64_t row_begin, int64_t row_end);
#if defined(__aarch64__)
/// NEON twin (vcntq_u8); arm64 only.
int64_t bnn_binary_conv_rows_neon(const bnn_binary_conv_params *params, int64_t row_begin, int64_t row_end);
#endif

/// Peak probe: `iterations` rounds of 12 independent 8-lane FMA chains (AVX2+FMA), i.e.
/// 192·iterations floating-point operations. Returns a value that depends on every chain.
float bnn_probe_fma(int64_t iterations);
/// Peak probe: `iterations` rounds of 8 independent XOR + vpshufb-popcount + accumulate chains on
/// 256-bit registers (the inner loop of the AVX2 convolution without its loads), i.e.
/// 2048·iterations bit operations. Returns a value that depends on every chain.
uint64_t bnn_probe_popcount_avx2(int64_t iterations);
/// Peak probe: `iterations` rounds of 8 independent XOR + scalar `popcnt` + add chains on 64-bit
/// words, i.e. 512·iterations bit operations.
uint64_t bnn_probe_popcount_scalar(int64_t iterations);

#endif
