/// Bit-packed binary (XNOR-popcount) kernels: sign-and-pack, weight packing, binary convolution
/// with exact zero-padding correction and a fused output transform.
///
/// Bit convention: a set bit stands for −1 (a negative value), a clear bit for +1. Words are
/// `uint64_t`; the channels of one pixel (or of one weight tap) occupy `bnn_binary_words(C)` words,
/// channel `c` in bit `c % 64` of word `c / 64`. Bits past the true channel count are always clear,
/// so they never count (both operands have them clear, their XOR is 0).
///
/// Every optimised kernel (`_avx2`, `_avx512`, `_neon`) has a portable `_reference` twin; the plain
/// entry points choose one at run time through `bnn_cpu_features()` (and, for AVX-512, the CPU's own
/// report, see `bnn_binary_kernel_name`).
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
#if defined(__x86_64__)
/// AVX2 twin of `bnn_binary_pack_signs` (x86_64 only); call only when `bnn_cpu_detected_features()`
/// has `BNN_CPU_AVX2_FMA_POPCNT`.
int64_t bnn_binary_pack_signs_avx2(const float *values, int64_t rows, int64_t channels, uint64_t *words);
/// AVX-512 twin of `bnn_binary_pack_signs` (x86_64 only); call only when
/// `bnn_binary_avx512_detected()` is nonzero.
int64_t bnn_binary_pack_signs_avx512(const float *values, int64_t rows, int64_t channels, uint64_t *words);
#endif

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

/// Rearranges already packed weight signs, O×taps×words row-major (`words` = words(C), the layout
/// of `bnn_binary_pack_signs` over O·taps rows), into the blocked layout and tap popcounts of
/// `bnn_binary_pack_weights` (same buffer sizes; channels past O are zero).
void bnn_binary_block_signs(const uint64_t *signs, int64_t out_channels, int64_t taps, int64_t words,
                            uint64_t *blocked, int32_t *tap_popcounts);

/// Copies packed activations stored with a zero border of `in_margin` pixels, i.e. in an
/// N×(H+2·in_margin)×(W+2·in_margin)×words buffer, into a buffer of the same images with a border
/// of `out_margin` pixels (border words 0). The convolution reads activations whose margin is at
/// least its padding without any copy.
void bnn_binary_remargin(const uint64_t *input, int64_t batch, int64_t height, int64_t width, int64_t words,
                         int64_t in_margin, int64_t out_margin, uint64_t *output);

/// One binary convolution: operands, geometry and what to write.
///
/// Output value of pixel q and channel o, with `dot` the exact dot product over the valid
/// (non-padding) taps, i.e. the float convolution of the sign tensors with zero padding (a weight of
/// sign 0 listed in the `zero_*` tables counts 0; every variant applies that correction, Σ sign(x)
/// over the channel's zero taps, through `bnn_binary_zero_correct`):
/// `v = scale[o]·dot + bias[o]` (float multiply, then add; bias 0 when NULL), then
/// `v += residual[q·O + o]` when `residual` is set, then `v = min(max(v, clamp_lo), clamp_hi)` when
/// `clamp` is nonzero, then the activation (ReActNet's RPReLU; each step skipped when its table is
/// NULL): `v += activation_shift[o]`, `v = v > 0 ? v : activation_slope[o]·v`,
/// `v += activation_bias[o]`. `output[q·OS + o] = v`; the packed sign is that of
/// `v + pack_threshold[o]` (of `v` when NULL: ReActNet's RSign folded into the packing).
///
/// The strides let a convolution write its channels as a slice of a wider tensor (a concatenation
/// along channels): `output` points at the slice's first channel, OS is the floats between pixels
/// (0 means O), and the packed signs go to channels `packed_channel + o` of pixels `packed_stride`
/// words apart.
typedef struct {
    int64_t batch, height, width, channels;        ///< input N, H, W, C
    int64_t out_channels, kernel_h, kernel_w;     ///< O, kH, kW
    int64_t stride, padding;                      ///< equal in both directions; symmetric padding
    int64_t out_h, out_w;                         ///< (H + 2p − kH)/s + 1, (W + 2p − kW)/s + 1
    const uint64_t *input;         ///< N×(H+2m)×(W+2m)×words(C) packed signs, m = `input_margin`,
                                   ///< border words 0 (+1)
    int64_t input_margin;          ///< m; the optimised kernels need m ≥ padding (else the reference runs)
    const uint64_t *weights;       ///< blocked layout from `bnn_binary_pack_weights`
    const int32_t *tap_popcounts;  ///< from `bnn_binary_pack_weights`
    int32_t *dots;                 ///< if set: N×OH×OW×O raw integer dot products
    const float *scale;            ///< O floats; needed for `output` and `packed_output`
    const float *bias;             ///< O floats or NULL
    const float *residual;         ///< N×OH×OW×O floats or NULL
    int32_t clamp;                 ///< nonzero: clamp to [clamp_lo, clamp_hi]
    float clamp_lo, clamp_hi;
    float *output;                 ///< if set: N×OH×OW×O transformed floats
    uint64_t *packed_output;       ///< if set: N×(OH+2m')×(OW+2m')×words(O) signs of the transformed
                                   ///< values, m' = `packed_output_margin`; only the interior is written,
                                   ///< the border must be zero already
    int64_t packed_output_margin;  ///< m'
    const int32_t *zero_blocks;    ///< NULL when no weight has sign 0 (the common case: nothing else is read);
                                   ///< else `bnn_binary_padded_channels(O)/8 + 1` offsets: the zero-weight
                                   ///< entries of weight block b are [zero_blocks[b], zero_blocks[b+1])
    const int32_t *zero_channels;  ///< per entry, its output channel (ascending)
    const uint64_t *zero_masks;    ///< per entry, K = kH·kW·words(C) words in the weights' tap-major order:
                                   ///< bit set where the weight's sign is 0 (it is packed as +1, bit clear)
    const float *activation_shift; ///< O floats added after the clamp, or NULL
    const float *activation_slope; ///< O PReLU slopes applied after that, or NULL (no PReLU)
    const float *activation_bias;  ///< O floats added last, or NULL
    const float *pack_threshold;   ///< O floats added before taking the packed sign, or NULL
    int64_t output_stride;         ///< OS: floats between consecutive pixels of `output` (0: O)
    int64_t packed_stride;         ///< words between consecutive pixels of `packed_output` (0: words(O))
    int64_t packed_channel;        ///< the packed channel of output channel 0; a multiple of 16. At 0 the
                                   ///< kernel clears each pixel's `packed_stride` words first; otherwise it
                                   ///< only sets bits (the slice at channel 0 must have run before)
    int32_t output_pool;           ///< nonzero: `output` receives the 2×2 average pool (stride 2) of the
                                   ///< transformed values instead of them, N×(OH/2)×(OW/2) pixels OS floats
                                   ///< apart; each window summed from +0 in row-major order, then times 0.25
                                   ///< (PyTorch's average pool). OH and OW must be even and every call must
                                   ///< cover whole pairs of rows (even `row_begin`, `row_end`); the packed
                                   ///< signs and raw dots stay per pixel
} bnn_binary_conv_params;

/// Marks the values whose sign is 0 in the float model (±0, and NaN, which `sign` also maps to 0):
/// `rows × bnn_binary_words(channels)` words in the layout of `bnn_binary_pack_signs`, bit set where
/// the value is neither < 0 nor > 0. Returns how many were marked.
int64_t bnn_binary_zero_mask(const float *values, int64_t rows, int64_t channels, uint64_t *mask);

/// Gathers the zero masks of the output channels that have any (`mask`: O×taps×words, the layout of
/// `bnn_binary_zero_mask` over O·taps rows) into the three tables of `bnn_binary_conv_params`:
/// `zero_blocks` (`bnn_binary_padded_channels(O)/8 + 1` int32), `zero_channels` (up to O int32) and
/// `zero_masks` (up to O·taps·words words). Returns the number of entries (channels with a zero
/// weight); 0 means the kernels need no tables (pass NULL).
int64_t bnn_binary_compact_zero_masks(const uint64_t *mask, int64_t out_channels, int64_t taps, int64_t words,
                                      int32_t *zero_blocks, int32_t *zero_channels, uint64_t *zero_masks);

/// Computes output rows [row_begin, row_end) of the flattened N·OH rows (safe to call concurrently
/// on disjoint ranges). Returns how many transformed values were ±0 or NaN when `packed_output` is
/// set (0 otherwise).
int64_t bnn_binary_conv_rows(const bnn_binary_conv_params *params, int64_t row_begin, int64_t row_end);
/// Portable twin of `bnn_binary_conv_rows`: a direct loop over the valid taps only.
int64_t bnn_binary_conv_rows_reference(const bnn_binary_conv_params *params, int64_t row_begin, int64_t row_end);
#if defined(__x86_64__)
/// AVX2 twin (4 pixels × 8 output channels register tile, vpshufb popcount; x86_64 only); needs
/// `BNN_CPU_AVX2_FMA_POPCNT` in `bnn_cpu_detected_features()`.
int64_t bnn_binary_conv_rows_avx2(const bnn_binary_conv_params *params, int64_t row_begin, int64_t row_end);
/// AVX-512 twin (8 pixels × 16 output channels, a 512-bit register of 64-bit lanes per pixel and
/// 8 channels, vpopcntq; x86_64 only); needs AVX-512 F, BW, VL and VPOPCNTDQ, see
/// `bnn_binary_avx512_detected`.
int64_t bnn_binary_conv_rows_avx512(const bnn_binary_conv_params *params, int64_t row_begin, int64_t row_end);
/// Whether this CPU has what `bnn_binary_conv_rows_avx512` needs (regardless of any forcing).
int bnn_binary_avx512_detected(void);
#endif
#if defined(__aarch64__)
/// NEON twin (vcntq_u8); arm64 only.
int64_t bnn_binary_conv_rows_neon(const bnn_binary_conv_params *params, int64_t row_begin, int64_t row_end);
#endif

/// The convolution variant `bnn_binary_conv_rows` runs on this CPU: "avx512-vpopcntdq", "avx2",
/// "neon" or "reference" (honours `BNN_KERNELS=reference` and `bnn_cpu_force_reference`;
/// `BNN_KERNELS=avx2` keeps the binary kernels on AVX2 where AVX-512 is present).
const char *bnn_binary_kernel_name(void);

/// Peak probe: `iterations` rounds of 12 independent 8-lane FMA chains (AVX2+FMA; scalar floats
/// elsewhere). Returns the number of floating-point operations done; `sink` receives a value that
/// depends on every chain.
double bnn_probe_fma(int64_t iterations, float *sink);
/// Peak probe: `iterations` rounds of 8 XOR + AVX2 vpshufb-popcount + accumulate streams on 256-bit
/// registers (the inner loop of the AVX2 convolution without its loads; only the accumulation is a
/// loop-carried dependency, so it measures throughput). Returns 2048·iterations bit operations
/// (XOR-popcounted bits), 0 where there is no such vector popcount.
double bnn_probe_popcount_vector(int64_t iterations, uint64_t *sink);
/// Peak probe: as `bnn_probe_fma` with 512-bit registers (AVX-512F), 384·iterations operations;
/// returns 0 where AVX-512 is missing.
double bnn_probe_fma512(int64_t iterations, float *sink);
/// Peak probe: 12 XOR + vpopcntq + add streams on 512-bit registers (AVX-512 VPOPCNTDQ), a
/// throughput measure like `bnn_probe_popcount_vector`. Returns 6144·iterations bit operations, 0
/// where `bnn_binary_avx512_detected()` is false.
double bnn_probe_popcount512(int64_t iterations, uint64_t *sink);
/// Peak probe: `iterations` rounds of 8 XOR + scalar popcount + add streams on 64-bit words.
/// Returns 512·iterations bit operations.
double bnn_probe_popcount_scalar(int64_t iterations, uint64_t *sink);

/// Expands rows `[row0, row1)` of packed signs (N×(H+2·margin)×(W+2·margin)×words(C), a set bit
/// for −1) to ±1 floats zero-padded by `padding` pixels on every side: output row `r` is image
/// `r / (H + 2·padding)`, padded row `r % (H + 2·padding)`, `(W + 2·padding)·C` floats at
/// `output + r·(W + 2·padding)·C`.
void bnn_binary_unpack_signs(const uint64_t *words, int64_t height, int64_t width, int64_t channels, int64_t margin,
                             int64_t padding, int64_t row0, int64_t row1, float *output);

#endif
