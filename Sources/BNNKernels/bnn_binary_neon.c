// Binary convolution for arm64 with NEON: the same 4-pixel × 8-output-channel tile as the AVX2
// kernel, popcount per byte with vcntq_u8, byte sums widened into 64-bit lanes every 31 words.
#include "bnn_binary.h"
#include "bnn_binary_internal.h"

#if defined(__aarch64__)
#include <arm_neon.h>

#pragma clang fp contract(off)

#define BNN_TILE_PIXELS 4
#define BNN_BYTE_WORDS 31

/// XOR-popcounts of `pixels` (1…4) pixels against one 8-channel block; `sums[i][v]` holds the
/// counts of channels 2v and 2v+1 of pixel i.
__attribute__((always_inline)) static inline void
tile(const uint64_t *const bases[BNN_TILE_PIXELS], const int pixels, const int32_t *offsets, int64_t k_words,
     const uint64_t *block, uint64x2_t sums[BNN_TILE_PIXELS][4]) {
    for (int i = 0; i < pixels; i++) {
        for (int v = 0; v < 4; v++) sums[i][v] = vdupq_n_u64(0);
    }
    for (int64_t k0 = 0; k0 < k_words; k0 += BNN_BYTE_WORDS) {
        const int64_t k1 = k_words - k0 < BNN_BYTE_WORDS ? k_words : k0 + BNN_BYTE_WORDS;
        uint8x16_t acc[BNN_TILE_PIXELS][4];
        for (int i = 0; i < pixels; i++) {
            for (int v = 0; v < 4; v++) acc[i][v] = vdupq_n_u8(0);
        }
        for (int64_t k = k0; k < k1; k++) {
            const int32_t offset = offsets[k];
            uint64x2_t w[4];
            for (int v = 0; v < 4; v++) w[v] = vld1q_u64(block + k * BNN_BINARY_BLOCK + 2 * v);
            for (int i = 0; i < pixels; i++) {
                const uint64x2_t x = vdupq_n_u64(bases[i][offset]);
                for (int v = 0; v < 4; v++) {
                    acc[i][v] = vaddq_u8(acc[i][v], vcntq_u8(vreinterpretq_u8_u64(veorq_u64(x, w[v]))));
                }
            }
        }
        for (int i = 0; i < pixels; i++) {
            for (int v = 0; v < 4; v++) sums[i][v] = vpadalq_u32(sums[i][v], vpaddlq_u16(vpaddlq_u8(acc[i][v])));
        }
    }
}

/// One tile: output channels [o_begin, O) of `pixels` (1…BNN_TILE_PIXELS) consecutive output pixels.
static int64_t tile_pixels_neon(const bnn_binary_conv_params *p, int64_t q, int pixels, const bnn_binary_pixel *where,
                                const int32_t *offsets, int64_t k_words, int64_t o_begin) {
    int64_t unrepresentable = 0;
    const uint64_t *bases[BNN_TILE_PIXELS];
    for (int i = 0; i < BNN_TILE_PIXELS; i++) bases[i] = where[i < pixels ? i : 0].base;
    for (int64_t o0 = o_begin; o0 < p->out_channels; o0 += BNN_BINARY_BLOCK) {
        const uint64_t *block = p->weights + (o0 / BNN_BINARY_BLOCK) * k_words * BNN_BINARY_BLOCK;
        uint64x2_t sums[BNN_TILE_PIXELS][4];
        if (pixels == BNN_TILE_PIXELS) {
            tile(bases, BNN_TILE_PIXELS, offsets, k_words, block, sums);
        } else {
            for (int i = 0; i < pixels; i++) {
                uint64x2_t one[BNN_TILE_PIXELS][4];
                const uint64_t *single[BNN_TILE_PIXELS] = {bases[i], bases[i], bases[i], bases[i]};
                tile(single, 1, offsets, k_words, block, one);
                for (int v = 0; v < 4; v++) sums[i][v] = one[0][v];
            }
        }
        for (int i = 0; i < pixels; i++) {
            int32_t correction[BNN_BINARY_BLOCK];
            int touching = 0;
            if (where[i].touches_padding) bnn_binary_border(p, where[i].oy, where[i].ox, o0, correction, &touching);
            const int64_t count = p->out_channels - o0 < BNN_BINARY_BLOCK ? p->out_channels - o0 : BNN_BINARY_BLOCK;
            int32_t dots[BNN_BINARY_BLOCK];
            for (int v = 0; v < 4; v++) {
                for (int lane = 0; lane < 2; lane++) {
                    const int64_t c = 2 * v + lane;
                    int64_t differing = (int64_t)(lane == 0 ? vgetq_lane_u64(sums[i][v], 0) : vgetq_lane_u64(sums[i][v], 1));
                    if (touching) differing -= correction[c];
                    dots[c] = (int32_t)(where[i].valid_bits - 2 * differing);
                }
            }
            if (p->zero_blocks) bnn_binary_zero_correct(p, q + i, o0, count, dots);
            unrepresentable += bnn_binary_finish(p, q + i, o0, count, dots, where[i].packed);
        }
    }
    return unrepresentable;
}

int64_t bnn_binary_conv_rows_neon(const bnn_binary_conv_params *p, int64_t row_begin, int64_t row_end) {
    return bnn_binary_conv_driver(p, row_begin, row_end, BNN_TILE_PIXELS, tile_pixels_neon, NULL, 0, 0);
}

#endif
