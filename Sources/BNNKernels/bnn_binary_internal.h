// Private helpers shared by the binary convolution variants (not part of the public headers).
#ifndef BNN_BINARY_INTERNAL_H
#define BNN_BINARY_INTERNAL_H

#include "bnn_binary.h"

#include <stddef.h>

/// Word offsets, relative to an output pixel's top-left input word in the padded layout, of the
/// K = kH·kW·words(C) words of its receptive field, in blocked-weight order. Returns K.
int64_t bnn_binary_word_offsets(const bnn_binary_conv_params *p, int32_t *offsets);

/// The input word at the top-left tap (inside the padding when it falls there) of output pixel
/// (n, oy, ox); needs `input_margin` ≥ padding.
static inline const uint64_t *bnn_binary_pixel_base(const bnn_binary_conv_params *p, int64_t n, int64_t oy,
                                                    int64_t ox) {
    const int64_t m = p->input_margin, shift = m - p->padding;
    const int64_t ph = p->height + 2 * m, pw = p->width + 2 * m;
    return p->input + ((n * ph + oy * p->stride + shift) * pw + ox * p->stride + shift) * bnn_binary_words(p->channels);
}

/// Floats between consecutive pixels of `output`.
static inline int64_t bnn_binary_output_stride(const bnn_binary_conv_params *p) {
    return p->output_stride > 0 ? p->output_stride : p->out_channels;
}

/// Words between consecutive pixels of `packed_output`.
static inline int64_t bnn_binary_packed_stride(const bnn_binary_conv_params *p) {
    return p->packed_stride > 0 ? p->packed_stride : bnn_binary_words(p->out_channels);
}

/// The first packed output word of output pixel (n, oy, ox), or NULL without `packed_output`.
static inline uint64_t *bnn_binary_packed_output_at(const bnn_binary_conv_params *p, int64_t n, int64_t oy,
                                                    int64_t ox) {
    if (!p->packed_output) return NULL;
    const int64_t m = p->packed_output_margin;
    const int64_t ph = p->out_h + 2 * m, pw = p->out_w + 2 * m;
    return p->packed_output + ((n * ph + oy + m) * pw + ox + m) * bnn_binary_packed_stride(p);
}

/// Whether the epilogue goes past `scale·dot + bias (+ residual), clamp`: an activation or a packing
/// threshold (the AVX-512 kernel's 8-channel remainder then takes the AVX2 epilogue).
static inline int bnn_binary_has_activation(const bnn_binary_conv_params *p) {
    return p->activation_shift || p->activation_slope || p->activation_bias || p->pack_threshold;
}

/// For output pixel (oy, ox): the number of its taps inside the image; when some fall into the
/// padding and `correction` is set, writes for the 8 channels of block `o0` the number of −1 weight
/// signs on those taps (the XOR-popcount they added against the zero border words); otherwise
/// leaves `correction` untouched and returns all taps.
int64_t bnn_binary_border(const bnn_binary_conv_params *p, int64_t oy, int64_t ox, int64_t o0,
                          int32_t correction[BNN_BINARY_BLOCK], int *touches_padding);

/// Writes the results of pixel `pixel` (flattened N·OH·OW index), channels [o0, o0+count), from
/// their exact dot products: raw dots, transformed floats, and the signs into `packed` (the pixel's
/// packed output words, NULL when not packing; cleared beforehand). Returns the number of
/// transformed values that were ±0 or NaN when packing.
int64_t bnn_binary_finish(const bnn_binary_conv_params *p, int64_t pixel, int64_t o0, int64_t count,
                          const int32_t *dots, uint64_t *packed);

/// Makes the dot products `dots[0…count)` of channels [o0, o0+count) of pixel `pixel` (flattened
/// N·OH·OW index) exact for weights of sign 0: subtracts, for every channel of the `zero_*` tables
/// in that range, Σ sign(x) over its zero taps inside the image, i.e. popcount(mask) − 2·popcount(x AND
/// mask) per valid tap (padding taps contribute 0 in the float model and are skipped). Portable, shared
/// by every variant; call only when `p->zero_blocks` is set.
void bnn_binary_zero_correct(const bnn_binary_conv_params *p, int64_t pixel, int64_t o0, int64_t count,
                             int32_t *dots);

/// Clears the packed output words of output rows [row_begin, row_end) when `packed_output` is set.
void bnn_binary_clear_packed(const bnn_binary_conv_params *p, int64_t row_begin, int64_t row_end);

/// Where one output pixel of a register tile reads and writes.
typedef struct {
    const uint64_t *base;  ///< `bnn_binary_pixel_base` of the pixel
    uint64_t *packed;      ///< `bnn_binary_packed_output_at` of the pixel (NULL when not packing)
    int64_t oy, ox;        ///< output position
    int64_t valid_taps;    ///< taps inside the image
    int32_t valid_bits;    ///< valid_taps · C: the dot product of equal signs
    int touches_padding;   ///< whether some tap falls into the padding
    uint64_t outside;      ///< bit t set when tap t (ky·kW + kx) is in the padding; kH·kW ≤ 64 only
} bnn_binary_pixel;

/// Whether `bnn_binary_pixel.outside` describes every tap (kH·kW ≤ 64).
static inline int bnn_binary_taps_fit_mask(const bnn_binary_conv_params *p) { return p->kernel_h * p->kernel_w <= 64; }

/// Describes the next `count` output pixels from position (*n, *oy, *ox) and advances the position
/// past them (no divisions per pixel).
static inline void bnn_binary_next_pixels(const bnn_binary_conv_params *p, int64_t *n, int64_t *oy, int64_t *ox,
                                          int count, bnn_binary_pixel *pixels) {
    const int64_t taps = p->kernel_h * p->kernel_w;
    for (int i = 0; i < count; i++) {
        bnn_binary_pixel *px = &pixels[i];
        px->base = bnn_binary_pixel_base(p, *n, *oy, *ox);
        px->packed = bnn_binary_packed_output_at(p, *n, *oy, *ox);
        px->oy = *oy;
        px->ox = *ox;
        const int64_t y0 = *oy * p->stride - p->padding, x0 = *ox * p->stride - p->padding;
        px->touches_padding = y0 < 0 || x0 < 0 || y0 + p->kernel_h > p->height || x0 + p->kernel_w > p->width;
        px->valid_taps = taps;
        px->outside = 0;
        if (px->touches_padding) {
            px->valid_taps = 0;
            for (int64_t ky = 0; ky < p->kernel_h; ky++) {
                for (int64_t kx = 0; kx < p->kernel_w; kx++) {
                    const int64_t iy = y0 + ky, ix = x0 + kx;
                    if (iy >= 0 && iy < p->height && ix >= 0 && ix < p->width) {
                        px->valid_taps++;
                    } else if (ky * p->kernel_w + kx < 64) {
                        px->outside |= (uint64_t)1 << (ky * p->kernel_w + kx);
                    }
                }
            }
        }
        px->valid_bits = (int32_t)(px->valid_taps * p->channels);
        if (++*ox == p->out_w) {
            *ox = 0;
            if (++*oy == p->out_h) {
                *oy = 0;
                ++*n;
            }
        }
    }
}

/// Most output pixels in one register tile of any variant.
#define BNN_BINARY_MAX_TILE_PIXELS 8

/// One variant's work on a tile of `pixels` consecutive output pixels starting at flattened pixel
/// `q`: output channels [o_begin, O), written through the epilogue. `offsets` are the K word offsets
/// of `bnn_binary_word_offsets`. Returns the ±0/NaN count of the packed outputs.
typedef int64_t (*bnn_binary_tile_fn)(const bnn_binary_conv_params *p, int64_t q, int pixels,
                                      const bnn_binary_pixel *where, const int32_t *offsets, int64_t k_words,
                                      int64_t o_begin);

/// A full register tile of pixels that lie in one output row: pixel i reads the input words at
/// `base + i·step`, so a kernel needs one pointer for all of them.
typedef struct {
    const uint64_t *base;           ///< `bnn_binary_pixel_base` of the first pixel
    int64_t step;                   ///< words between consecutive pixels' bases: stride · words(C)
    uint64_t *packed;               ///< packed output words of the first pixel (NULL when not packing);
                                    ///< pixel i's are at `packed + i · words(O)`
    int32_t valid_bits;             ///< kH·kW·C: the dot product of equal signs off the border
    const bnn_binary_pixel *border; ///< every pixel's description when some touch the padding, else NULL
    int pixels;                     ///< pixels in the tile (the variant's row-tile width)
} bnn_binary_row_tile;

/// A variant's fast path for a `bnn_binary_row_tile`: output channels [0, o_end) (a multiple of the
/// variant's channel group). Returns the ±0/NaN count of the packed outputs.
typedef int64_t (*bnn_binary_row_tile_fn)(const bnn_binary_conv_params *p, int64_t q, const bnn_binary_row_tile *tile,
                                          const int32_t *offsets, int64_t k_words, int64_t o_end);

/// The loop every optimised variant shares: falls back to the reference when the input margin is
/// too small, prepares the word offsets, clears packed output rows, walks output rows
/// [row_begin, row_end) in tiles of `tile_pixels` (≤ BNN_BINARY_MAX_TILE_PIXELS) and calls `tile`.
/// When `row_tile` is set, tiles of `row_pixels` (≤ `tile_pixels`) pixels inside one output row go
/// to it for channels [0, `row_channels`), and to `tile` for the rest.
int64_t bnn_binary_conv_driver(const bnn_binary_conv_params *p, int64_t row_begin, int64_t row_end,
                               int tile_pixels, bnn_binary_tile_fn tile, bnn_binary_row_tile_fn row_tile,
                               int64_t row_channels, int row_pixels);

/// Whether the optimised kernels can read the input: its margin covers the padding.
int bnn_binary_fast_input(const bnn_binary_conv_params *p);

#if defined(__x86_64__)
#include <immintrin.h>

/// The XOR-popcount that the padding taps of pixel `where` added for the 8 channels of block
/// `o0`: the sum of `tap_popcounts` over those taps, one 256-bit vector add per tap.
__attribute__((target("avx2,popcnt"), always_inline)) static inline __m256i
bnn_binary_correction_avx2(const bnn_binary_conv_params *p, int64_t o0, const bnn_binary_pixel *where) {
    if (!bnn_binary_taps_fit_mask(p)) {
        int32_t correction[BNN_BINARY_BLOCK];
        int touching = 0;
        bnn_binary_border(p, where->oy, where->ox, o0, correction, &touching);
        return _mm256_loadu_si256((const __m256i *)correction);
    }
    const int64_t padded_o = bnn_binary_padded_channels(p->out_channels);
    __m256i correction = _mm256_setzero_si256();
    for (uint64_t taps = where->outside; taps; taps &= taps - 1) {
        const int64_t t = __builtin_ctzll(taps);
        correction = _mm256_add_epi32(correction,
                                      _mm256_loadu_si256((const __m256i *)(p->tap_popcounts + t * padded_o + o0)));
    }
    return correction;
}

/// AVX2 epilogue of one pixel and one 8-channel block (shared by the x86 kernels): from the
/// XOR-popcounts `differing` of channels o0…o0+7 writes dots / transformed floats / packed signs.
/// Returns the number of ±0 or NaN transformed values when packing.
int64_t bnn_binary_finish_block_avx2(const bnn_binary_conv_params *p, int64_t pixel, int64_t o0,
                                     const int32_t differing[BNN_BINARY_BLOCK], const bnn_binary_pixel *where);

/// `bnn_binary_zero_correct` on the 8 dot products of block `o0` held in a vector (a no-op without
/// zero weights: one test of a pointer).
__attribute__((target("avx2,popcnt"), always_inline)) static inline __m256i
bnn_binary_zero_correct_avx2(const bnn_binary_conv_params *p, int64_t pixel, int64_t o0, __m256i dots) {
    if (__builtin_expect(p->zero_blocks == NULL, 1)) return dots;
    int32_t lanes[BNN_BINARY_BLOCK];
    _mm256_storeu_si256((__m256i *)lanes, dots);
    const int64_t count = p->out_channels - o0 < BNN_BINARY_BLOCK ? p->out_channels - o0 : BNN_BINARY_BLOCK;
    bnn_binary_zero_correct(p, pixel, o0, count, lanes);
    return _mm256_loadu_si256((const __m256i *)lanes);
}

/// Whether the AVX-512 kernel can run (AVX-512 F/BW/VPOPCNTDQ present and not forced to reference).
int bnn_binary_has_avx512(void);
#endif

#endif
