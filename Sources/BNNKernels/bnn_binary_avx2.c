// Binary kernels for x86_64 with AVX2 and POPCNT: sign-and-pack with movemask, and the
// XOR-popcount convolution on a 4-pixel × 8-output-channel register tile. The popcount of a
// 256-bit XOR is taken per byte with two vpshufb nibble look-ups, accumulated in bytes for at most
// 31 words (8·31 < 256) and folded into 64-bit lanes (one per output channel) with vpsadbw.
#include "bnn_binary.h"
#include "bnn_binary_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

// Float results must match the reference kernel bit for bit: no FMA contraction.
#pragma clang fp contract(off)

#define BNN_AVX2 __attribute__((target("avx2,popcnt")))
#define BNN_TILE_PIXELS 4
#define BNN_BYTE_WORDS 31

BNN_AVX2 int64_t bnn_binary_pack_signs_avx2(const float *values, int64_t rows, int64_t channels, uint64_t *words) {
    const int64_t wpp = bnn_binary_words(channels);
    const __m256 zero = _mm256_setzero_ps();
    int64_t unrepresentable = 0;
    for (int64_t r = 0; r < rows; r++) {
        const float *row = values + r * channels;
        uint64_t *out = words + r * wpp;
        for (int64_t j = 0; j < wpp; j++) {
            const int64_t c0 = 64 * j;
            const int64_t end = channels - c0 < 64 ? channels - c0 : 64;
            uint64_t word = 0;
            int64_t b = 0;
            for (; b + 8 <= end; b += 8) {
                const __m256 v = _mm256_loadu_ps(row + c0 + b);
                word |= (uint64_t)(uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(v, zero, _CMP_LT_OQ)) << b;
                unrepresentable += __builtin_popcount((unsigned)_mm256_movemask_ps(_mm256_cmp_ps(v, zero, _CMP_EQ_UQ)));
            }
            for (; b < end; b++) {
                const float v = row[c0 + b];
                if (v < 0) word |= (uint64_t)1 << b;
                if (!(v < 0) && !(v > 0)) unrepresentable++;
            }
            out[j] = word;
        }
    }
    return unrepresentable;
}

BNN_AVX2 static inline __m256i count_bytes(__m256i v, __m256i lut, __m256i low) {
    const __m256i lo = _mm256_and_si256(v, low);
    const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low);
    return _mm256_add_epi8(_mm256_shuffle_epi8(lut, lo), _mm256_shuffle_epi8(lut, hi));
}

/// XOR-popcounts of `pixels` (1…4) output pixels against one 8-channel weight block, over all K
/// words; `sums[i][0]` holds channels 0–3 of pixel i, `sums[i][1]` channels 4–7.
BNN_AVX2 __attribute__((always_inline)) static inline void
tile(const uint64_t *const bases[BNN_TILE_PIXELS], const int pixels, const int32_t *offsets, int64_t k_words,
     const uint64_t *block, __m256i sums[BNN_TILE_PIXELS][2]) {
    const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
                                         0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
    const __m256i low = _mm256_set1_epi8(0x0f);
    const __m256i zero = _mm256_setzero_si256();
    for (int i = 0; i < pixels; i++) sums[i][0] = sums[i][1] = zero;
    for (int64_t k0 = 0; k0 < k_words; k0 += BNN_BYTE_WORDS) {
        const int64_t k1 = k_words - k0 < BNN_BYTE_WORDS ? k_words : k0 + BNN_BYTE_WORDS;
        __m256i acc[BNN_TILE_PIXELS][2];
        for (int i = 0; i < pixels; i++) acc[i][0] = acc[i][1] = zero;
        for (int64_t k = k0; k < k1; k++) {
            const int32_t offset = offsets[k];
            const __m256i w0 = _mm256_loadu_si256((const __m256i *)(block + k * BNN_BINARY_BLOCK));
            const __m256i w1 = _mm256_loadu_si256((const __m256i *)(block + k * BNN_BINARY_BLOCK + 4));
            for (int i = 0; i < pixels; i++) {
                const __m256i x = _mm256_set1_epi64x((long long)bases[i][offset]);
                acc[i][0] = _mm256_add_epi8(acc[i][0], count_bytes(_mm256_xor_si256(x, w0), lut, low));
                acc[i][1] = _mm256_add_epi8(acc[i][1], count_bytes(_mm256_xor_si256(x, w1), lut, low));
            }
        }
        for (int i = 0; i < pixels; i++) {
            sums[i][0] = _mm256_add_epi64(sums[i][0], _mm256_sad_epu8(acc[i][0], zero));
            sums[i][1] = _mm256_add_epi64(sums[i][1], _mm256_sad_epu8(acc[i][1], zero));
        }
    }
}

int64_t bnn_binary_finish_block_avx2(const bnn_binary_conv_params *p, int64_t pixel, int64_t o0,
                                     const int32_t differing[BNN_BINARY_BLOCK], const bnn_binary_pixel *where)
    __attribute__((target("avx2,popcnt")));

int64_t bnn_binary_finish_block_avx2(const bnn_binary_conv_params *p, int64_t pixel, int64_t o0,
                                     const int32_t differing[BNN_BINARY_BLOCK], const bnn_binary_pixel *where) {
    __m256i counts = _mm256_loadu_si256((const __m256i *)differing);
    if (where->touches_padding) counts = _mm256_sub_epi32(counts, bnn_binary_correction_avx2(p, o0, where));
    const __m256i dots = bnn_binary_zero_correct_avx2(
        p, pixel, o0, _mm256_sub_epi32(_mm256_set1_epi32(where->valid_bits), _mm256_slli_epi32(counts, 1)));
    const int64_t count = p->out_channels - o0;
    if (count < BNN_BINARY_BLOCK) {
        int32_t lanes[BNN_BINARY_BLOCK];
        _mm256_storeu_si256((__m256i *)lanes, dots);
        return bnn_binary_finish(p, pixel, o0, count, lanes, where->packed);
    }
    if (p->dots) _mm256_storeu_si256((__m256i *)(p->dots + pixel * p->out_channels + o0), dots);
    if (!p->output && !where->packed) return 0;
    __m256 v = _mm256_mul_ps(_mm256_loadu_ps(p->scale + o0), _mm256_cvtepi32_ps(dots));
    if (p->bias) v = _mm256_add_ps(v, _mm256_loadu_ps(p->bias + o0));
    if (p->residual) v = _mm256_add_ps(v, _mm256_loadu_ps(p->residual + pixel * p->out_channels + o0));
    if (p->clamp) v = _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(p->clamp_lo)), _mm256_set1_ps(p->clamp_hi));
    const __m256 zero = _mm256_setzero_ps();
    if (p->activation_shift) v = _mm256_add_ps(v, _mm256_loadu_ps(p->activation_shift + o0));
    if (p->activation_slope) {
        const __m256 scaled = _mm256_mul_ps(v, _mm256_loadu_ps(p->activation_slope + o0));
        v = _mm256_blendv_ps(scaled, v, _mm256_cmp_ps(v, zero, _CMP_GT_OQ));
    }
    if (p->activation_bias) v = _mm256_add_ps(v, _mm256_loadu_ps(p->activation_bias + o0));
    if (p->output) _mm256_storeu_ps(p->output + pixel * bnn_binary_output_stride(p) + o0, v);
    if (!where->packed) return 0;
    if (p->pack_threshold) v = _mm256_add_ps(v, _mm256_loadu_ps(p->pack_threshold + o0));
    const uint64_t negative = (uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(v, zero, _CMP_LT_OQ));
    const int64_t c = p->packed_channel + o0;
    where->packed[c / 64] |= negative << (c % 64);
    return __builtin_popcount((unsigned)_mm256_movemask_ps(_mm256_cmp_ps(v, zero, _CMP_EQ_UQ)));
}

/// `tile` for at most 32 input channels and one word per tap (only the low 32 bits of every input and
/// weight word can be set): channels o and o+4 of the block share a 64-bit lane, o in its low and o+4
/// in its high half, the input word's low half is broadcast to every 32-bit lane, and one XOR and one
/// byte count serve 8 channels, half the work of `tile`. `sums[i]` holds the counts in 32-bit lanes:
/// lane 2j is channel j, lane 2j+1 channel j+4 (the order `dots8` expects).
BNN_AVX2 __attribute__((always_inline)) static inline void
tile_half(const uint64_t *const bases[BNN_TILE_PIXELS], const int pixels, const int32_t *offsets, int64_t k_words,
          const uint64_t *block, __m256i sums[BNN_TILE_PIXELS]) {
    const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
                                         0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
    const __m256i low = _mm256_set1_epi8(0x0f);
    const __m256i zero = _mm256_setzero_si256();
    const __m256i ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
    for (int i = 0; i < pixels; i++) sums[i] = zero;
    for (int64_t k0 = 0; k0 < k_words; k0 += BNN_BYTE_WORDS) {
        const int64_t k1 = k_words - k0 < BNN_BYTE_WORDS ? k_words : k0 + BNN_BYTE_WORDS;
        __m256i acc[BNN_TILE_PIXELS];
        for (int i = 0; i < pixels; i++) acc[i] = zero;
        for (int64_t k = k0; k < k1; k++) {
            const int32_t offset = offsets[k];
            const __m256i w = _mm256_or_si256(
                _mm256_loadu_si256((const __m256i *)(block + k * BNN_BINARY_BLOCK)),
                _mm256_slli_epi64(_mm256_loadu_si256((const __m256i *)(block + k * BNN_BINARY_BLOCK + 4)), 32));
            for (int i = 0; i < pixels; i++) {
                const __m256i x = _mm256_set1_epi32((int)(uint32_t)bases[i][offset]);
                acc[i] = _mm256_add_epi8(acc[i], count_bytes(_mm256_xor_si256(x, w), lut, low));
            }
        }
        // Bytes → 16-bit pairs → 32-bit lanes.
        for (int i = 0; i < pixels; i++) {
            sums[i] = _mm256_add_epi32(sums[i], _mm256_madd_epi16(_mm256_maddubs_epi16(acc[i], ones8), ones16));
        }
    }
}

/// XOR-popcounts in 32-bit lanes 2j = channel j, 2j+1 = channel j+4 (the layout of `tile_half` and of
/// `tile`'s interleaved halves) → lanes in channel order 0…7.
BNN_AVX2 __attribute__((always_inline)) static inline __m256i channel_order(__m256i mixed) {
    return _mm256_permutevar8x32_epi32(mixed, _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7));
}

/// The exact dot products of the 8 channels of block `o0` of one pixel, in channel order, from its
/// XOR-popcounts `mixed` (32-bit lanes 2j = channel j, 2j+1 = channel j+4): `valid_bits` − 2·(differing
/// bits), or, for a pixel touching the padding (`border` set), its own valid bits less the padding
/// taps' share.
BNN_AVX2 __attribute__((always_inline)) static inline __m256i
dots8(const bnn_binary_conv_params *p, int64_t o0, __m256i mixed, const bnn_binary_pixel *border, int32_t valid_bits) {
    __m256i differing = channel_order(mixed);
    if (border) {
        differing = _mm256_sub_epi32(differing, bnn_binary_correction_avx2(p, o0, border));
        valid_bits = border->valid_bits;
    }
    return _mm256_sub_epi32(_mm256_set1_epi32(valid_bits), _mm256_slli_epi32(differing, 1));
}

/// XOR-popcounts of `pixels` pixels against the full block `o0` in `dots8`'s lane order: the half-word
/// path for at most 32 input channels, else `tile` with its two 64-bit halves interleaved.
BNN_AVX2 __attribute__((always_inline)) static inline void
block_counts(const bnn_binary_conv_params *p, const uint64_t *const bases[BNN_TILE_PIXELS], const int pixels,
             const int32_t *offsets, int64_t k_words, const uint64_t *block, __m256i mixed[BNN_TILE_PIXELS]) {
    if (p->channels <= 32) {
        tile_half(bases, pixels, offsets, k_words, block, mixed);
        return;
    }
    __m256i sums[BNN_TILE_PIXELS][2];
    tile(bases, pixels, offsets, k_words, block, sums);
    for (int i = 0; i < pixels; i++) {
        // 64-bit lanes (0,1,2,3) and (4,5,6,7) → 32-bit lanes 2j and 2j+1.
        mixed[i] = _mm256_blend_epi32(sums[i][0], _mm256_slli_epi64(sums[i][1], 32), 0xAA);
    }
}

/// The epilogue of the full block `o0` (8 existing channels) of `pixels` pixels q…q+pixels−1 from their
/// dot products (made exact for zero weights here): raw dots, the transform, the activation and the
/// signs into `packed[i]` (pixel i's packed output words, NULL when not packing). The per-channel
/// constants are loaded once per block and the flags read into locals, so the pixel loop is straight
/// vector code; the order of operations is `bnn_binary_finish`'s, so results are bit for bit the same.
BNN_AVX2 __attribute__((always_inline)) static inline int64_t
emit8(const bnn_binary_conv_params *p, int64_t q, int64_t o0, const int pixels, __m256i dots[BNN_TILE_PIXELS],
      uint64_t *const packed[BNN_TILE_PIXELS]) {
    const int64_t oc = p->out_channels;
#pragma clang loop unroll(full)
    for (int i = 0; i < pixels; i++) dots[i] = bnn_binary_zero_correct_avx2(p, q + i, o0, dots[i]);
    int32_t *const dots_out = p->dots;
    if (dots_out) {
        for (int i = 0; i < pixels; i++) _mm256_storeu_si256((__m256i *)(dots_out + (q + i) * oc + o0), dots[i]);
    }
    float *const output = p->output;
    if (!output && !p->packed_output) return 0;
    const float *const residual = p->residual;
    const int64_t out_stride = bnn_binary_output_stride(p);
    const __m256 zero = _mm256_setzero_ps();
    const __m256 scale = _mm256_loadu_ps(p->scale + o0);
    const __m256 bias = p->bias ? _mm256_loadu_ps(p->bias + o0) : zero;
    const __m256 lo = _mm256_set1_ps(p->clamp_lo), hi = _mm256_set1_ps(p->clamp_hi);
    const __m256 act_shift = p->activation_shift ? _mm256_loadu_ps(p->activation_shift + o0) : zero;
    const __m256 slope = p->activation_slope ? _mm256_loadu_ps(p->activation_slope + o0) : zero;
    const __m256 act_bias = p->activation_bias ? _mm256_loadu_ps(p->activation_bias + o0) : zero;
    const __m256 threshold = p->pack_threshold ? _mm256_loadu_ps(p->pack_threshold + o0) : zero;
    const int has_bias = p->bias != NULL, clamp = p->clamp;
    const int has_shift = p->activation_shift != NULL, has_slope = p->activation_slope != NULL;
    const int has_act_bias = p->activation_bias != NULL, has_threshold = p->pack_threshold != NULL;
    const int64_t word = (p->packed_channel + o0) / 64, shift = (p->packed_channel + o0) % 64;
    int64_t unrepresentable = 0;
#pragma clang loop unroll(full)
    for (int i = 0; i < pixels; i++) {
        __m256 v = _mm256_mul_ps(scale, _mm256_cvtepi32_ps(dots[i]));
        if (has_bias) v = _mm256_add_ps(v, bias);
        if (residual) v = _mm256_add_ps(v, _mm256_loadu_ps(residual + (q + i) * oc + o0));
        if (clamp) v = _mm256_min_ps(_mm256_max_ps(v, lo), hi);
        if (has_shift) v = _mm256_add_ps(v, act_shift);
        if (has_slope) v = _mm256_blendv_ps(_mm256_mul_ps(v, slope), v, _mm256_cmp_ps(v, zero, _CMP_GT_OQ));
        if (has_act_bias) v = _mm256_add_ps(v, act_bias);
        if (output) _mm256_storeu_ps(output + (q + i) * out_stride + o0, v);
        if (packed[i]) {
            const __m256 t = has_threshold ? _mm256_add_ps(v, threshold) : v;
            packed[i][word] |= (uint64_t)(uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(t, zero, _CMP_LT_OQ)) << shift;
            unrepresentable += __builtin_popcount((unsigned)_mm256_movemask_ps(_mm256_cmp_ps(t, zero, _CMP_EQ_UQ)));
        }
    }
    return unrepresentable;
}

/// Full blocks [o_begin, o_end) of `pixels` (a constant after inlining) pixels read through `bases`:
/// counts, dots and `emit8`. `border` lists every pixel's description when some touch the padding
/// (NULL: none does, and every pixel has `valid_bits`).
BNN_AVX2 __attribute__((always_inline)) static inline int64_t
full_blocks(const bnn_binary_conv_params *p, int64_t q, const int pixels, const uint64_t *const bases[BNN_TILE_PIXELS],
            uint64_t *const packed[BNN_TILE_PIXELS], const bnn_binary_pixel *border, int32_t valid_bits,
            const int32_t *offsets, int64_t k_words, int64_t o_begin, int64_t o_end) {
    int64_t unrepresentable = 0;
    for (int64_t o0 = o_begin; o0 < o_end; o0 += BNN_BINARY_BLOCK) {
        const uint64_t *block = p->weights + (o0 / BNN_BINARY_BLOCK) * k_words * BNN_BINARY_BLOCK;
        __m256i mixed[BNN_TILE_PIXELS], dots[BNN_TILE_PIXELS];
        block_counts(p, bases, pixels, offsets, k_words, block, mixed);
        if (border) {
#pragma clang loop unroll(full)
            for (int i = 0; i < pixels; i++) {
                dots[i] = dots8(p, o0, mixed[i], border[i].touches_padding ? &border[i] : NULL, border[i].valid_bits);
            }
        } else {
#pragma clang loop unroll(full)
            for (int i = 0; i < pixels; i++) dots[i] = dots8(p, o0, mixed[i], NULL, valid_bits);
        }
        unrepresentable += emit8(p, q, o0, pixels, dots, packed);
    }
    return unrepresentable;
}

/// One tile: output channels [o_begin, O) of `pixels` (1…BNN_TILE_PIXELS) consecutive output pixels,
/// each read through its own base pointer (the tile may cross output rows). Full blocks take
/// `full_blocks`; a last partial block takes the shared `bnn_binary_finish_block_avx2`.
BNN_AVX2 static int64_t tile_pixels_avx2(const bnn_binary_conv_params *p, int64_t q, int pixels,
                                        const bnn_binary_pixel *where, const int32_t *offsets,
                                        int64_t k_words, int64_t o_begin) {
    int64_t unrepresentable = 0;
    const uint64_t *bases[BNN_TILE_PIXELS];
    uint64_t *packed[BNN_TILE_PIXELS];
    for (int i = 0; i < BNN_TILE_PIXELS; i++) {
        bases[i] = where[i < pixels ? i : 0].base;
        packed[i] = i < pixels ? where[i].packed : NULL;
    }
    const int64_t whole = p->out_channels / BNN_BINARY_BLOCK * BNN_BINARY_BLOCK;
    const int64_t full_end = whole > o_begin ? whole : o_begin;
    if (pixels == BNN_TILE_PIXELS) {
        unrepresentable += full_blocks(p, q, BNN_TILE_PIXELS, bases, packed, where, 0, offsets, k_words, o_begin, full_end);
    } else {
        for (int i = 0; i < pixels; i++) {
            const uint64_t *single[BNN_TILE_PIXELS] = {bases[i], bases[i], bases[i], bases[i]};
            uint64_t *const one_packed[BNN_TILE_PIXELS] = {packed[i], NULL, NULL, NULL};
            unrepresentable += full_blocks(p, q + i, 1, single, one_packed, &where[i], 0, offsets, k_words, o_begin, full_end);
        }
    }
    for (int64_t o0 = full_end; o0 < p->out_channels; o0 += BNN_BINARY_BLOCK) {
        const uint64_t *block = p->weights + (o0 / BNN_BINARY_BLOCK) * k_words * BNN_BINARY_BLOCK;
        __m256i mixed[BNN_TILE_PIXELS];
        if (pixels == BNN_TILE_PIXELS) {
            block_counts(p, bases, BNN_TILE_PIXELS, offsets, k_words, block, mixed);
        } else {
            for (int i = 0; i < pixels; i++) {
                const uint64_t *single[BNN_TILE_PIXELS] = {bases[i], bases[i], bases[i], bases[i]};
                __m256i one[BNN_TILE_PIXELS];
                block_counts(p, single, 1, offsets, k_words, block, one);
                mixed[i] = one[0];
            }
        }
        for (int i = 0; i < pixels; i++) {
            int32_t differing[BNN_BINARY_BLOCK];
            _mm256_storeu_si256((__m256i *)differing, channel_order(mixed[i]));
            unrepresentable += bnn_binary_finish_block_avx2(p, q + i, o0, differing, &where[i]);
        }
    }
    return unrepresentable;
}

/// The row-tile fast path: 4 pixels of one output row (pixel i reads `base + i·step`, no per-pixel
/// description off the border), channels [0, o_end) in full blocks.
BNN_AVX2 static int64_t row_tile_avx2(const bnn_binary_conv_params *p, int64_t q, const bnn_binary_row_tile *t,
                                      const int32_t *offsets, int64_t k_words, int64_t o_end) {
    const uint64_t *bases[BNN_TILE_PIXELS];
    uint64_t *packed[BNN_TILE_PIXELS];
    for (int i = 0; i < BNN_TILE_PIXELS; i++) {
        bases[i] = t->base + i * t->step;
        packed[i] = t->packed ? t->packed + i * bnn_binary_packed_stride(p) : NULL;
    }
    return full_blocks(p, q, BNN_TILE_PIXELS, bases, packed, t->border, t->valid_bits, offsets, k_words, 0, o_end);
}

BNN_AVX2 int64_t bnn_binary_conv_rows_avx2(const bnn_binary_conv_params *p, int64_t row_begin, int64_t row_end) {
    const int64_t row_channels = p->out_channels / BNN_BINARY_BLOCK * BNN_BINARY_BLOCK;
    return bnn_binary_conv_driver(p, row_begin, row_end, BNN_TILE_PIXELS, tile_pixels_avx2, row_tile_avx2,
                                  row_channels, BNN_TILE_PIXELS);
}

#endif
