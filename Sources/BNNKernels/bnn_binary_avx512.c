// Binary convolution for x86_64 with AVX-512 VPOPCNTDQ: one 512-bit register holds the 64-bit
// XOR-popcount sums of the 8 output channels of a weight block, so the inner step per packed word
// and pixel is a broadcast, vpxorq, vpopcntq and vpaddq; the tile is 8 pixels × 16 channels (two
// blocks). The epilogue runs on 16 channels at once (8 for a lone or partial block).
//
// Row tiles (7 or 8 pixels of one output row) whose epilogue has no raw dots or zero-weight
// corrections take a specialised epilogue (`emit16_fast`): the dot products formed in float, each
// step only when present, ReActNet's two forms compiled with constant flags, each pixel's 16 signs one
// 16-bit store. 1×1 convolutions (up to 128 input channels, or rows of 7·k pixels) take their own
// loop (`pointwise_rows`):
// per output row and 16 channels the weights and constants are loaded once and the pixels go by in
// steps of 7 or 8, 4, 1, without the per-tile setup of the shared driver. For a 3×3 kernel with padding 1
// the padding corrections are tabulated per call (`bnn_padded_params`): a border pixel's correction is
// one load, chosen by which sides of its window leave the image; when row tiles cover the output the
// rows are walked by `table_rows` instead of the shared driver.
#include "bnn_binary.h"
#include "bnn_binary_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <stdlib.h>

#pragma clang fp contract(off)

#define BNN_AVX512 __attribute__((target("avx2,popcnt,avx512f,avx512bw,avx512vl,avx512vpopcntdq")))
#define BNN_TILE512_PIXELS 8

/// XOR-popcounts of `pixels` (1…8) output pixels against `blocks` (1 or 2) consecutive 8-channel
/// weight blocks over all K words; lane o of `sums[b][i]` is channel o of block b for pixel i. With two
/// blocks each broadcast input word serves 16 channels.
BNN_AVX512 __attribute__((always_inline)) static inline void
tile512(const uint64_t *const bases[BNN_TILE512_PIXELS], const int pixels, const int blocks, const int32_t *offsets,
        int64_t k_words, const uint64_t *block, __m512i sums[2][BNN_TILE512_PIXELS]) {
    for (int b = 0; b < blocks; b++) {
        for (int i = 0; i < pixels; i++) sums[b][i] = _mm512_setzero_si512();
    }
    const uint64_t *second = block + k_words * BNN_BINARY_BLOCK;
    for (int64_t k = 0; k < k_words; k++) {
        const int32_t offset = offsets[k];
        const __m512i w0 = _mm512_loadu_si512((const void *)(block + k * BNN_BINARY_BLOCK));
        const __m512i w1 = blocks > 1 ? _mm512_loadu_si512((const void *)(second + k * BNN_BINARY_BLOCK)) : w0;
        for (int i = 0; i < pixels; i++) {
            const __m512i x = _mm512_set1_epi64((long long)bases[i][offset]);
            sums[0][i] = _mm512_add_epi64(sums[0][i], _mm512_popcnt_epi64(_mm512_xor_si512(x, w0)));
            if (blocks > 1) sums[1][i] = _mm512_add_epi64(sums[1][i], _mm512_popcnt_epi64(_mm512_xor_si512(x, w1)));
        }
    }
}

BNN_AVX512 int64_t bnn_binary_pack_signs_avx512(const float *values, int64_t rows, int64_t channels,
                                                uint64_t *words) {
    const int64_t wpp = bnn_binary_words(channels);
    const __m512 zero = _mm512_setzero_ps();
    int64_t unrepresentable = 0;
    for (int64_t r = 0; r < rows; r++) {
        const float *row = values + r * channels;
        uint64_t *out = words + r * wpp;
        for (int64_t j = 0; j < wpp; j++) {
            const int64_t c0 = 64 * j;
            const int64_t end = channels - c0 < 64 ? channels - c0 : 64;
            if (end == 64) {
                // A full word: four 16-lane compares per kind, masks joined in a general register.
                const float *v = row + c0;
                __m512 x[4];
                for (int g = 0; g < 4; g++) x[g] = _mm512_loadu_ps(v + 16 * g);
                uint64_t negative = 0, unsigned_zero = 0;
                for (int g = 0; g < 4; g++) {
                    negative |= (uint64_t)_mm512_cmp_ps_mask(x[g], zero, _CMP_LT_OQ) << (16 * g);
                    unsigned_zero |= (uint64_t)_mm512_cmp_ps_mask(x[g], zero, _CMP_EQ_UQ) << (16 * g);
                }
                out[j] = negative;
                unrepresentable += __builtin_popcountll(unsigned_zero);
                continue;
            }
            uint64_t word = 0;
            for (int64_t b = 0; b < end; b += 16) {
                const __mmask16 lanes = end - b >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (end - b)) - 1);
                const __m512 v = _mm512_maskz_loadu_ps(lanes, row + c0 + b);
                word |= (uint64_t)_mm512_mask_cmp_ps_mask(lanes, v, zero, _CMP_LT_OQ) << b;
                unrepresentable += __builtin_popcount((unsigned)_mm512_mask_cmp_ps_mask(lanes, v, zero, _CMP_EQ_UQ));
            }
            out[j] = word;
        }
    }
    return unrepresentable;
}

/// The epilogue of a tile: from the XOR-popcounts of `pixels` pixels × the 8 channels of block
/// `o0` writes dots / transformed floats / packed signs; per-channel constants are loaded once and
/// the parameters are read into locals (stores to the outputs cannot alias them then).
BNN_AVX512 __attribute__((always_inline)) static inline int64_t
finish_tile(const bnn_binary_conv_params *p, int64_t q, int64_t o0, const __m512i sums[BNN_TILE512_PIXELS],
            int pixels, const bnn_binary_pixel where[BNN_TILE512_PIXELS]) {
    int64_t unrepresentable = 0;
    const int64_t oc = p->out_channels;
    if (oc - o0 < BNN_BINARY_BLOCK) {
        for (int i = 0; i < pixels; i++) {
            int32_t differing[BNN_BINARY_BLOCK];
            _mm256_storeu_si256((__m256i *)differing, _mm512_cvtepi64_epi32(sums[i]));
            unrepresentable += bnn_binary_finish_block_avx2(p, q + i, o0, differing, &where[i]);
        }
        return unrepresentable;
    }
    if (bnn_binary_has_activation(p)) {
        // The activation and threshold: the shared AVX2 epilogue, one pixel at a time.
        for (int i = 0; i < pixels; i++) {
            int32_t differing[BNN_BINARY_BLOCK];
            _mm256_storeu_si256((__m256i *)differing, _mm512_cvtepi64_epi32(sums[i]));
            unrepresentable += bnn_binary_finish_block_avx2(p, q + i, o0, differing, &where[i]);
        }
        return unrepresentable;
    }
    int32_t *const dots_out = p->dots;
    float *const output = p->output;
    const float *const residual = p->residual;
    const int64_t out_stride = bnn_binary_output_stride(p);
    const int has_bias = p->bias != NULL, clamp = p->clamp;
    const int values = output || p->packed_output;
    const __m256 scale = values ? _mm256_loadu_ps(p->scale + o0) : _mm256_setzero_ps();
    const __m256 bias = has_bias ? _mm256_loadu_ps(p->bias + o0) : _mm256_setzero_ps();
    const __m256 lo = _mm256_set1_ps(p->clamp_lo), hi = _mm256_set1_ps(p->clamp_hi);
    const __m256 zero = _mm256_setzero_ps();
    const int64_t word = (p->packed_channel + o0) / 64, shift = (p->packed_channel + o0) % 64;
    for (int i = 0; i < pixels; i++) {
        __m256i differing = _mm512_cvtepi64_epi32(sums[i]);
        if (where[i].touches_padding) differing = _mm256_sub_epi32(differing, bnn_binary_correction_avx2(p, o0, &where[i]));
        const __m256i dots = bnn_binary_zero_correct_avx2(
            p, q + i, o0, _mm256_sub_epi32(_mm256_set1_epi32(where[i].valid_bits), _mm256_slli_epi32(differing, 1)));
        if (dots_out) _mm256_storeu_si256((__m256i *)(dots_out + (q + i) * oc + o0), dots);
        if (!values) continue;
        __m256 v = _mm256_mul_ps(scale, _mm256_cvtepi32_ps(dots));
        if (has_bias) v = _mm256_add_ps(v, bias);
        if (residual) v = _mm256_add_ps(v, _mm256_loadu_ps(residual + (q + i) * oc + o0));
        if (clamp) v = _mm256_min_ps(_mm256_max_ps(v, lo), hi);
        if (output) _mm256_storeu_ps(output + (q + i) * out_stride + o0, v);
        if (where[i].packed) {
            where[i].packed[word] |= (uint64_t)_mm256_cmp_ps_mask(v, zero, _CMP_LT_OQ) << shift;
            unrepresentable += __builtin_popcount((unsigned)_mm256_cmp_ps_mask(v, zero, _CMP_EQ_UQ));
        }
    }
    return unrepresentable;
}

/// The exact dot products of channels o0…o0+15 of one pixel from the XOR-popcounts of its two weight
/// blocks (`s0`, `s1`, 64-bit lanes): `valid_bits` − 2·(differing bits), or, for a pixel touching
/// the padding (`border` set), its own valid bits less the padding taps' share.
BNN_AVX512 __attribute__((always_inline)) static inline __m512i
dots16(const bnn_binary_conv_params *p, int64_t o0, __m512i s0, __m512i s1, const bnn_binary_pixel *border,
       int32_t valid_bits) {
    // Low 32 bits of the 64-bit lanes of s0 (channels o0…o0+7), then of s1 (o0+8…o0+15).
    const __m512i pick = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    __m512i differing = _mm512_permutex2var_epi32(s0, pick, s1);
    if (border) {
        const __m512i correction = _mm512_inserti64x4(_mm512_castsi256_si512(bnn_binary_correction_avx2(p, o0, border)),
                                                      bnn_binary_correction_avx2(p, o0 + BNN_BINARY_BLOCK, border), 1);
        differing = _mm512_sub_epi32(differing, correction);
        valid_bits = border->valid_bits;
    }
    return _mm512_sub_epi32(_mm512_set1_epi32(valid_bits), _mm512_slli_epi32(differing, 1));
}

/// The epilogue of channels o0…o0+15 (all existing) of the 8 pixels q…q+7 from their dot products
/// (made exact for zero weights here, see `bnn_binary_zero_correct`): raw dots, then the transform and the signs into `packed[i]` (pixel i's packed output
/// words, NULL when not packing), each pass over the 8 pixels with its constants loaded once.
BNN_AVX512 __attribute__((always_inline)) static inline int64_t
emit16(const bnn_binary_conv_params *p, int64_t q, int64_t o0, const int pixels, __m512i dots[BNN_TILE512_PIXELS],
       uint64_t *const packed[BNN_TILE512_PIXELS]) {
    const int64_t oc = p->out_channels;
    if (__builtin_expect(p->zero_blocks != NULL, 0)) {
        for (int i = 0; i < pixels; i++) {
            int32_t lanes[2 * BNN_BINARY_BLOCK];
            _mm512_storeu_si512((void *)lanes, dots[i]);
            bnn_binary_zero_correct(p, q + i, o0, 2 * BNN_BINARY_BLOCK, lanes);
            dots[i] = _mm512_loadu_si512((const void *)lanes);
        }
    }
    int32_t *const dots_out = p->dots;
    if (dots_out) {
#pragma clang loop unroll(full)
        for (int i = 0; i < pixels; i++) _mm512_storeu_si512((void *)(dots_out + (q + i) * oc + o0), dots[i]);
    }
    float *const output = p->output;
    if (!output && !p->packed_output) return 0;
    const float *const residual = p->residual;
    const int64_t out_stride = bnn_binary_output_stride(p);
    const __m512 scale = _mm512_loadu_ps(p->scale + o0);
    const __m512 bias = p->bias ? _mm512_loadu_ps(p->bias + o0) : _mm512_setzero_ps();
    const __m512 lo = _mm512_set1_ps(p->clamp_lo), hi = _mm512_set1_ps(p->clamp_hi);
    const __m512 zero = _mm512_setzero_ps();
    const int has_bias = p->bias != NULL, clamp = p->clamp;
    const int64_t word = (p->packed_channel + o0) / 64, shift = (p->packed_channel + o0) % 64;
    // RPReLU and the RSign threshold, each step only when its table is there (tests of loop-invariant flags).
    const __m512 act_shift = p->activation_shift ? _mm512_loadu_ps(p->activation_shift + o0) : zero;
    const __m512 act_bias = p->activation_bias ? _mm512_loadu_ps(p->activation_bias + o0) : zero;
    const __m512 threshold = p->pack_threshold ? _mm512_loadu_ps(p->pack_threshold + o0) : zero;
    const __m512 slope = p->activation_slope ? _mm512_loadu_ps(p->activation_slope + o0) : zero;
    const int has_shift = p->activation_shift != NULL, has_slope = p->activation_slope != NULL;
    const int has_act_bias = p->activation_bias != NULL, has_threshold = p->pack_threshold != NULL;
    int64_t unrepresentable = 0;
#pragma clang loop unroll(full)
    for (int i = 0; i < pixels; i++) {
        __m512 v = _mm512_mul_ps(scale, _mm512_cvtepi32_ps(dots[i]));
        if (has_bias) v = _mm512_add_ps(v, bias);
        if (residual) v = _mm512_add_ps(v, _mm512_loadu_ps(residual + (q + i) * oc + o0));
        if (clamp) v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
        if (has_shift) v = _mm512_add_ps(v, act_shift);
        if (has_slope) v = _mm512_mask_mul_ps(v, _mm512_cmp_ps_mask(v, zero, _CMP_NGT_UQ), v, slope);
        if (has_act_bias) v = _mm512_add_ps(v, act_bias);
        if (output) _mm512_storeu_ps(output + (q + i) * out_stride + o0, v);
        if (packed[i]) {
            const __m512 t = has_threshold ? _mm512_add_ps(v, threshold) : v;
            packed[i][word] |= (uint64_t)_mm512_cmp_ps_mask(t, zero, _CMP_LT_OQ) << shift;
            unrepresentable += __builtin_popcount((unsigned)_mm512_cmp_ps_mask(t, zero, _CMP_EQ_UQ));
        }
    }
    return unrepresentable;
}

/// One tile: output channels [o_begin, O) of `pixels` (1…BNN_TILE512_PIXELS) consecutive output
/// pixels, each read through its own base pointer (the tile may cross output rows).
BNN_AVX512 static int64_t tile_pixels_avx512(const bnn_binary_conv_params *p, int64_t q, int pixels,
                                             const bnn_binary_pixel *where, const int32_t *offsets,
                                             int64_t k_words, int64_t o_begin) {
    int64_t unrepresentable = 0;
    const uint64_t *bases[BNN_TILE512_PIXELS];
    for (int i = 0; i < BNN_TILE512_PIXELS; i++) bases[i] = where[i < pixels ? i : 0].base;
    const int64_t padded_o = bnn_binary_padded_channels(p->out_channels);
    for (int64_t o0 = o_begin; o0 < padded_o;) {
        const int blocks = padded_o - o0 >= 2 * BNN_BINARY_BLOCK ? 2 : 1;
        const uint64_t *block = p->weights + (o0 / BNN_BINARY_BLOCK) * k_words * BNN_BINARY_BLOCK;
        if (pixels == BNN_TILE512_PIXELS && blocks == 2 && o0 + 2 * BNN_BINARY_BLOCK <= p->out_channels) {
            // The hot path: its own accumulators, kept in registers from the loop into the epilogue.
            __m512i full[2][BNN_TILE512_PIXELS], dots[BNN_TILE512_PIXELS];
            uint64_t *packed[BNN_TILE512_PIXELS];
            tile512(bases, BNN_TILE512_PIXELS, 2, offsets, k_words, block, full);
#pragma clang loop unroll(full)
            for (int i = 0; i < BNN_TILE512_PIXELS; i++) {
                dots[i] = dots16(p, o0, full[0][i], full[1][i], where[i].touches_padding ? &where[i] : NULL,
                                 where[i].valid_bits);
                packed[i] = where[i].packed;
            }
            unrepresentable += emit16(p, q, o0, BNN_TILE512_PIXELS, dots, packed);
            o0 += 2 * BNN_BINARY_BLOCK;
            continue;
        }
        __m512i sums[2][BNN_TILE512_PIXELS];
        if (pixels == BNN_TILE512_PIXELS && blocks == 2) {
            tile512(bases, BNN_TILE512_PIXELS, 2, offsets, k_words, block, sums);
        } else if (pixels == BNN_TILE512_PIXELS) {
            tile512(bases, BNN_TILE512_PIXELS, 1, offsets, k_words, block, sums);
        } else {
            for (int i = 0; i < pixels; i++) {
                __m512i one[2][BNN_TILE512_PIXELS];
                const uint64_t *single[BNN_TILE512_PIXELS] = {bases[i], bases[i], bases[i], bases[i],
                                                              bases[i], bases[i], bases[i], bases[i]};
                if (blocks == 2) {
                    tile512(single, 1, 2, offsets, k_words, block, one);
                } else {
                    tile512(single, 1, 1, offsets, k_words, block, one);
                }
                for (int b = 0; b < blocks; b++) sums[b][i] = one[b][0];
            }
        }
        for (int b = 0; b < blocks; b++, o0 += BNN_BINARY_BLOCK) {
            unrepresentable += finish_tile(p, q, o0, sums[b], pixels, where);
        }
    }
    return unrepresentable;
}

// MARK: - Row tiles: 7 or 8 pixels of one output row × 16 channels

/// XOR-popcounts of `pixels` (7 or 8, a constant after inlining) pixels of one output row (pixel i
/// reads `base + i·step`) against the 8-channel weight blocks `w0` and `w1` over all K words; lane o
/// of `s0[i]` / `s1[i]` is channel o of the block. One base pointer and named accumulators keep
/// everything in registers.
BNN_AVX512 __attribute__((always_inline)) static inline void
row_sums(const uint64_t *base, int64_t step, const int pixels, const int32_t *offsets, int64_t k_words,
         const uint64_t *w0, const uint64_t *w1, __m512i s0[BNN_TILE512_PIXELS], __m512i s1[BNN_TILE512_PIXELS]) {
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    __m512i b0 = a0, b1 = a0, b2 = a0, b3 = a0, b4 = a0, b5 = a0, b6 = a0, b7 = a0;
    for (int64_t k = 0; k < k_words; k++) {
        const uint64_t *x = base + offsets[k];
        const __m512i v0 = _mm512_loadu_si512((const void *)(w0 + k * BNN_BINARY_BLOCK));
        const __m512i v1 = _mm512_loadu_si512((const void *)(w1 + k * BNN_BINARY_BLOCK));
#define BNN_ROW_STEP(i, a, b)                                                          \
    if ((i) < pixels) {                                                                \
        const __m512i input = _mm512_set1_epi64((long long)x[(i) * step]);            \
        a = _mm512_add_epi64(a, _mm512_popcnt_epi64(_mm512_xor_si512(input, v0)));    \
        b = _mm512_add_epi64(b, _mm512_popcnt_epi64(_mm512_xor_si512(input, v1)));    \
    }
        BNN_ROW_STEP(0, a0, b0)
        BNN_ROW_STEP(1, a1, b1)
        BNN_ROW_STEP(2, a2, b2)
        BNN_ROW_STEP(3, a3, b3)
        BNN_ROW_STEP(4, a4, b4)
        BNN_ROW_STEP(5, a5, b5)
        BNN_ROW_STEP(6, a6, b6)
        BNN_ROW_STEP(7, a7, b7)
#undef BNN_ROW_STEP
    }
    s0[0] = a0, s0[1] = a1, s0[2] = a2, s0[3] = a3, s0[4] = a4, s0[5] = a5, s0[6] = a6, s0[7] = a7;
    s1[0] = b0, s1[1] = b1, s1[2] = b2, s1[3] = b3, s1[4] = b4, s1[5] = b5, s1[6] = b6, s1[7] = b7;
}

/// `row_sums` for at most 32 input channels and one word per tap (only the low 32 bits of every
/// input and weight word can be set): the two weight blocks share one register, block `w0` in the low
/// and `w1` in the high 32 bits of each 64-bit lane, the input word's low half is broadcast to every
/// 32-bit lane, and one vpxord, vpopcntd and vpaddd serve 16 channels, half the work of `row_sums`.
/// Returns the sums in `row_sums`'s layout (block `w0` in the low 32 bits of `s0`'s lanes, `w1` in
/// those of `s1`).
BNN_AVX512 __attribute__((always_inline)) static inline void
row_sums_half(const uint64_t *base, int64_t step, const int pixels, const int32_t *offsets, int64_t k_words,
              const uint64_t *w0, const uint64_t *w1, __m512i s0[BNN_TILE512_PIXELS], __m512i s1[BNN_TILE512_PIXELS]) {
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    for (int64_t k = 0; k < k_words; k++) {
        const uint32_t *x = (const uint32_t *)(const void *)(base + offsets[k]);
        const __m512i v = _mm512_or_si512(_mm512_loadu_si512((const void *)(w0 + k * BNN_BINARY_BLOCK)),
                                          _mm512_slli_epi64(_mm512_loadu_si512((const void *)(w1 + k * BNN_BINARY_BLOCK)), 32));
#define BNN_HALF_STEP(i, a)                                                                      \
    if ((i) < pixels) {                                                                          \
        const __m512i input = _mm512_set1_epi32((int)x[2 * (i) * step]);                         \
        a = _mm512_add_epi32(a, _mm512_popcnt_epi32(_mm512_xor_si512(input, v)));               \
    }
        BNN_HALF_STEP(0, a0)
        BNN_HALF_STEP(1, a1)
        BNN_HALF_STEP(2, a2)
        BNN_HALF_STEP(3, a3)
        BNN_HALF_STEP(4, a4)
        BNN_HALF_STEP(5, a5)
        BNN_HALF_STEP(6, a6)
        BNN_HALF_STEP(7, a7)
#undef BNN_HALF_STEP
    }
    const __m512i sums[BNN_TILE512_PIXELS] = {a0, a1, a2, a3, a4, a5, a6, a7};
#pragma clang loop unroll(full)
    for (int i = 0; i < BNN_TILE512_PIXELS; i++) {
        s0[i] = sums[i];
        s1[i] = _mm512_srli_epi64(sums[i], 32);
    }
}

/// The row-tile fast path for `pixels` (7 or 8, a constant after inlining) pixels: channels [0, o_end)
/// in groups of 16 (two weight blocks).
BNN_AVX512 __attribute__((always_inline)) static inline int64_t
row_tile_body(const bnn_binary_conv_params *p, int64_t q, const bnn_binary_row_tile *t, const int pixels,
              const int32_t *offsets, int64_t k_words, int64_t o_end) {
    int64_t unrepresentable = 0;
    uint64_t *packed[BNN_TILE512_PIXELS];
    for (int i = 0; i < BNN_TILE512_PIXELS; i++) packed[i] = t->packed ? t->packed + i * bnn_binary_packed_stride(p) : NULL;
    for (int64_t o0 = 0; o0 < o_end; o0 += 2 * BNN_BINARY_BLOCK) {
        const uint64_t *w0 = p->weights + (o0 / BNN_BINARY_BLOCK) * k_words * BNN_BINARY_BLOCK;
        __m512i s0[BNN_TILE512_PIXELS], s1[BNN_TILE512_PIXELS], dots[BNN_TILE512_PIXELS];
        if (p->channels <= 32) {
            row_sums_half(t->base, t->step, pixels, offsets, k_words, w0, w0 + k_words * BNN_BINARY_BLOCK, s0, s1);
        } else {
            row_sums(t->base, t->step, pixels, offsets, k_words, w0, w0 + k_words * BNN_BINARY_BLOCK, s0, s1);
        }
        if (t->border) {
#pragma clang loop unroll(full)
            for (int i = 0; i < pixels; i++) {
                dots[i] = dots16(p, o0, s0[i], s1[i], t->border[i].touches_padding ? &t->border[i] : NULL,
                                 t->valid_bits);
            }
        } else {
            // Interior tiles (most of them): no padding test per pixel.
#pragma clang loop unroll(full)
            for (int i = 0; i < pixels; i++) dots[i] = dots16(p, o0, s0[i], s1[i], NULL, t->valid_bits);
        }
        unrepresentable += emit16(p, q, o0, pixels, dots, packed);
    }
    return unrepresentable;
}

// MARK: - Row tiles with a specialised epilogue

// What a row tile's epilogue applies, as flags that are constants in the common instantiations
// (ReActNet's layers), so that its per-pixel code has no tests and keeps its pointers in registers.
#define BNN_FAST_BIAS 1u
#define BNN_FAST_RESIDUAL 2u
#define BNN_FAST_CLAMP 4u
#define BNN_FAST_SHIFT 8u
#define BNN_FAST_SLOPE 16u
#define BNN_FAST_ACT_BIAS 32u
#define BNN_FAST_OUTPUT 64u
#define BNN_FAST_PACKED 128u
#define BNN_FAST_THRESHOLD 256u
#define BNN_FAST_POOL 512u  ///< `output_pool` (the 1×1 path only)
/// ReActNet-A's binary layers: BatchNorm shift, shortcut, RPReLU, float output and the next layer's
/// RSign folded into the packing (`BNN_FAST_REACTNET_LAST`: the last layer, nothing packed).
#define BNN_FAST_REACTNET_LAST                                                                                    \
    (BNN_FAST_BIAS | BNN_FAST_RESIDUAL | BNN_FAST_SHIFT | BNN_FAST_SLOPE | BNN_FAST_ACT_BIAS | BNN_FAST_OUTPUT)
#define BNN_FAST_REACTNET (BNN_FAST_REACTNET_LAST | BNN_FAST_PACKED | BNN_FAST_THRESHOLD)

/// The flags of `p`'s epilogue, or -1 when the specialised row tiles do not apply: raw dots or
/// zero-weight corrections asked for (they work on integer dots), nothing written, or dot products
/// that a float might not hold exactly (more than 2²⁴ bits per output).
static inline int fast_flags(const bnn_binary_conv_params *p) {
    if (p->dots || p->zero_blocks || (!p->output && !p->packed_output)) return -1;
    if (p->kernel_h * p->kernel_w * p->channels > (1 << 24)) return -1;
    unsigned flags = 0;
    if (p->bias) flags |= BNN_FAST_BIAS;
    if (p->residual) flags |= BNN_FAST_RESIDUAL;
    if (p->clamp) flags |= BNN_FAST_CLAMP;
    if (p->activation_shift) flags |= BNN_FAST_SHIFT;
    if (p->activation_slope) flags |= BNN_FAST_SLOPE;
    if (p->activation_bias) flags |= BNN_FAST_ACT_BIAS;
    if (p->output) flags |= BNN_FAST_OUTPUT;
    if (p->packed_output) flags |= BNN_FAST_PACKED;
    if (p->packed_output && p->pack_threshold) flags |= BNN_FAST_THRESHOLD;
    if (p->output && p->output_pool) flags |= BNN_FAST_POOL;
    return (int)flags;
}

/// `row_sums_half` with the two weight blocks' low halves gathered into one register in channel
/// order (lane j is channel j of the 16): the sums come out as the dot products' 16 lanes, with no
/// splitting or permuting after the loop.
BNN_AVX512 __attribute__((always_inline)) static inline void
row_sums_half16(const uint64_t *base, int64_t step, const int pixels, const int32_t *offsets, int64_t k_words,
                const uint64_t *w0, const uint64_t *w1, __m512i sums[BNN_TILE512_PIXELS]) {
    const __m512i pick = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    for (int64_t k = 0; k < k_words; k++) {
        const uint32_t *x = (const uint32_t *)(const void *)(base + offsets[k]);
        const __m512i v = _mm512_permutex2var_epi32(_mm512_loadu_si512((const void *)(w0 + k * BNN_BINARY_BLOCK)), pick,
                                                    _mm512_loadu_si512((const void *)(w1 + k * BNN_BINARY_BLOCK)));
#define BNN_HALF_STEP(i, a)                                                                      \
    if ((i) < pixels) {                                                                          \
        const __m512i input = _mm512_set1_epi32((int)x[2 * (i) * step]);                         \
        a = _mm512_add_epi32(a, _mm512_popcnt_epi32(_mm512_xor_si512(input, v)));               \
    }
        BNN_HALF_STEP(0, a0)
        BNN_HALF_STEP(1, a1)
        BNN_HALF_STEP(2, a2)
        BNN_HALF_STEP(3, a3)
        BNN_HALF_STEP(4, a4)
        BNN_HALF_STEP(5, a5)
        BNN_HALF_STEP(6, a6)
        BNN_HALF_STEP(7, a7)
#undef BNN_HALF_STEP
    }
    sums[0] = a0, sums[1] = a1, sums[2] = a2, sums[3] = a3, sums[4] = a4, sums[5] = a5, sums[6] = a6, sums[7] = a7;
}

/// The epilogue of channels o0…o0+15 of the `pixels` pixels q… of a row tile from their dot products
/// held as floats (exact integers), each step present only when `flags` has it (a constant in the
/// specialised instantiations). The same float operations in the same order as the reference
/// (`bnn_binary_finish`), with two exact rewrites: the sign of `v + threshold` is `v < −threshold`
/// and `v + threshold` is ±0 or NaN exactly when `v == −threshold` unordered (round to nearest with
/// subnormals, the default floating-point environment), and each pixel's 16 signs are one 16-bit
/// store (the packed words are cleared first, or this slice's bits are its own).
BNN_AVX512 __attribute__((always_inline)) static inline int64_t
emit16_pool(const bnn_binary_conv_params *p, int64_t q, int64_t o0, const int pixels, const __m512 dots[BNN_TILE512_PIXELS],
            uint64_t *const packed[BNN_TILE512_PIXELS], const unsigned flags, float *pooled, int odd_row, int64_t ox0);

BNN_AVX512 __attribute__((always_inline)) static inline int64_t
emit16_fast(const bnn_binary_conv_params *p, int64_t q, int64_t o0, const int pixels, const __m512 dots[BNN_TILE512_PIXELS],
            uint64_t *const packed[BNN_TILE512_PIXELS], const unsigned flags) {
    return emit16_pool(p, q, o0, pixels, dots, packed, flags & ~BNN_FAST_POOL, NULL, 0, 0);
}

/// `emit16_fast`, and with `BNN_FAST_POOL` in `flags` the float output as a 2×2 average pool: the
/// pixels are ox0… of an output row (`odd_row` its parity) and `pooled` is channel o0 of the first
/// pooled pixel of its pooled row; a window opens at an even row and column (+0 + v), collects,
/// and closes at an odd row and column (times 0.25), in the reference's order.
BNN_AVX512 __attribute__((always_inline)) static inline int64_t
emit16_pool(const bnn_binary_conv_params *p, int64_t q, int64_t o0, const int pixels, const __m512 dots[BNN_TILE512_PIXELS],
            uint64_t *const packed[BNN_TILE512_PIXELS], const unsigned flags, float *pooled, int odd_row, int64_t ox0) {
    const int64_t oc = p->out_channels;
    float *const output = (flags & BNN_FAST_OUTPUT) ? p->output + o0 : NULL;
    const float *const residual = (flags & BNN_FAST_RESIDUAL) ? p->residual + o0 : NULL;
    const int64_t out_stride = bnn_binary_output_stride(p);
    const __m512 zero = _mm512_setzero_ps();
    const __m512 scale = _mm512_loadu_ps(p->scale + o0);
    const __m512 bias = (flags & BNN_FAST_BIAS) ? _mm512_loadu_ps(p->bias + o0) : zero;
    const __m512 lo = _mm512_set1_ps(p->clamp_lo), hi = _mm512_set1_ps(p->clamp_hi);
    const __m512 act_shift = (flags & BNN_FAST_SHIFT) ? _mm512_loadu_ps(p->activation_shift + o0) : zero;
    const __m512 slope = (flags & BNN_FAST_SLOPE) ? _mm512_loadu_ps(p->activation_slope + o0) : zero;
    const __m512 act_bias = (flags & BNN_FAST_ACT_BIAS) ? _mm512_loadu_ps(p->activation_bias + o0) : zero;
    // −threshold (an exact sign flip), or +0 without a threshold.
    const __m512 negated = (flags & BNN_FAST_THRESHOLD)
                               ? _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(_mm512_loadu_ps(p->pack_threshold + o0)),
                                                                      _mm512_set1_epi32((int)0x80000000u)))
                               : zero;
    const int64_t chunk = (p->packed_channel + o0) / 16;  // the 16-bit piece of a pixel's packed words
    int64_t unrepresentable = 0;
    __m512 held = zero;  // with BNN_FAST_POOL: the left pixel's share of a window
#pragma clang loop unroll(full)
    for (int i = 0; i < pixels; i++) {
        __m512 v = _mm512_mul_ps(scale, dots[i]);
        if (flags & BNN_FAST_BIAS) v = _mm512_add_ps(v, bias);
        if (flags & BNN_FAST_RESIDUAL) v = _mm512_add_ps(v, _mm512_loadu_ps(residual + (q + i) * oc));
        if (flags & BNN_FAST_CLAMP) v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
        if (flags & BNN_FAST_SHIFT) v = _mm512_add_ps(v, act_shift);
        if (flags & BNN_FAST_SLOPE) v = _mm512_mask_mul_ps(v, _mm512_cmp_ps_mask(v, zero, _CMP_NGT_UQ), v, slope);
        if (flags & BNN_FAST_ACT_BIAS) v = _mm512_add_ps(v, act_bias);
        if (flags & BNN_FAST_POOL) {
            // A window's two pixels of this row: the left one's share is held in a register when the
            // right one is in this step, else it goes through memory.
            const int64_t ox = ox0 + i;
            float *target = pooled + (ox >> 1) * out_stride;
            if (!(ox & 1)) {
                // +0 opens a window in an even row; an odd row adds to the row above's share.
                const __m512 share = _mm512_add_ps(odd_row ? _mm512_loadu_ps(target) : zero, v);
                if (i + 1 < pixels) {
                    held = share;
                } else {
                    _mm512_storeu_ps(target, share);
                }
            } else {
                const __m512 sum = _mm512_add_ps(i > 0 ? held : _mm512_loadu_ps(target), v);
                _mm512_storeu_ps(target, odd_row ? _mm512_mul_ps(sum, _mm512_set1_ps(0.25f)) : sum);
            }
        } else if (flags & BNN_FAST_OUTPUT) {
            _mm512_storeu_ps(output + (q + i) * out_stride, v);
        }
        if (flags & BNN_FAST_PACKED) {
            const uint16_t signs = (uint16_t)_mm512_cmp_ps_mask(v, negated, _CMP_LT_OQ);
            __builtin_memcpy((uint16_t *)(void *)packed[i] + chunk, &signs, sizeof signs);
            unrepresentable += __builtin_popcount((unsigned)_mm512_cmp_ps_mask(v, negated, _CMP_EQ_UQ));
        }
    }
    return unrepresentable;
}

/// A call's parameters with the padding corrections of a 3×3 kernel with padding 1 tabulated: a pixel's
/// taps in the padding are fixed by which sides of its window leave the image, so each of the 16 side
/// masks (top | bottom << 1 | left << 2 | right << 3) has one row of `padded_o` corrections (the sum
/// of `tap_popcounts` over its outside taps) and one count of valid bits. The driver passes `&params`
/// to the row tiles, which get the rest back (`params` comes first).
typedef struct {
    bnn_binary_conv_params params;
    const int32_t *corrections;  ///< 16 × padded_o
    float valid[16];             ///< valid taps · C per side mask
} bnn_padded_params;

/// Whether the tabulated corrections apply: a 3×3 kernel with padding 1 (every side mask stands for
/// one set of outside taps, at any stride).
static inline int padding_table_applies(const bnn_binary_conv_params *p) {
    return p->kernel_h == 3 && p->kernel_w == 3 && p->padding == 1 && !p->output_pool && fast_flags(p) >= 0;
}

/// Fills `table` (16 × padded_o int32) and `valid` for `padding_table_applies`.
static void fill_padding_table(const bnn_binary_conv_params *p, int32_t *table, float valid[16]) {
    const int64_t padded_o = bnn_binary_padded_channels(p->out_channels);
    for (int mask = 0; mask < 16; mask++) {
        int32_t *row = table + mask * padded_o;
        for (int64_t o = 0; o < padded_o; o++) row[o] = 0;
        int taps = 0;
        for (int ky = 0; ky < 3; ky++) {
            for (int kx = 0; kx < 3; kx++) {
                const int outside = ((mask & 1) && ky == 0) || ((mask & 2) && ky == 2) || ((mask & 4) && kx == 0)
                                    || ((mask & 8) && kx == 2);
                if (!outside) {
                    taps++;
                    continue;
                }
                const int32_t *add = p->tap_popcounts + (ky * 3 + kx) * padded_o;
                for (int64_t o = 0; o < padded_o; o++) row[o] += add[o];
            }
        }
        valid[mask] = (float)(taps * p->channels);
    }
}

/// `row_tile_body` with `emit16_fast`: channels [0, o_end) in groups of 16 of `pixels` (7 or 8) pixels,
/// the dot products `valid_bits − 2·differing` formed in float (exact: fewer than 2²⁴ bits).
BNN_AVX512 __attribute__((always_inline)) static inline int64_t
row_tile_fast(const bnn_binary_conv_params *p, int64_t q, const bnn_binary_row_tile *t, const int pixels, const int half,
              const int32_t *offsets, int64_t k_words, int64_t o_end, const unsigned flags, const bnn_padded_params *table) {
    int64_t unrepresentable = 0;
    // With the table: each pixel's side mask (0 inside), once per tile.
    int32_t side[BNN_TILE512_PIXELS] = {0, 0, 0, 0, 0, 0, 0, 0};
    const int64_t padded_o = bnn_binary_padded_channels(p->out_channels);
    if (table && t->border) {
        for (int i = 0; i < pixels; i++) {
            const int64_t y0 = t->border[i].oy * p->stride - 1, x0 = t->border[i].ox * p->stride - 1;
            side[i] = (y0 < 0) | (y0 + 3 > p->height) << 1 | (x0 < 0) << 2 | (x0 + 3 > p->width) << 3;
        }
    }
    uint64_t *packed[BNN_TILE512_PIXELS];
    const int64_t packed_stride = bnn_binary_packed_stride(p);
    for (int i = 0; i < BNN_TILE512_PIXELS; i++) packed[i] = t->packed ? t->packed + i * packed_stride : NULL;
    const __m512i pick = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512 two = _mm512_set1_ps(2.0f);
    const __m512 interior = _mm512_set1_ps((float)t->valid_bits);
    for (int64_t o0 = 0; o0 < o_end; o0 += 2 * BNN_BINARY_BLOCK) {
        const uint64_t *w0 = p->weights + (o0 / BNN_BINARY_BLOCK) * k_words * BNN_BINARY_BLOCK;
        const uint64_t *w1 = w0 + k_words * BNN_BINARY_BLOCK;
        __m512i differing[BNN_TILE512_PIXELS];
        if (half) {
            row_sums_half16(t->base, t->step, pixels, offsets, k_words, w0, w1, differing);
        } else {
            __m512i s0[BNN_TILE512_PIXELS], s1[BNN_TILE512_PIXELS];
            row_sums(t->base, t->step, pixels, offsets, k_words, w0, w1, s0, s1);
#pragma clang loop unroll(full)
            for (int i = 0; i < pixels; i++) differing[i] = _mm512_permutex2var_epi32(s0[i], pick, s1[i]);
        }
        __m512 dots[BNN_TILE512_PIXELS];
        if (table && t->border) {
            // Tabulated corrections: one load per pixel, no branches (row 0 of the table is zeros).
#pragma clang loop unroll(full)
            for (int i = 0; i < pixels; i++) {
                differing[i] = _mm512_sub_epi32(differing[i],
                                                _mm512_loadu_si512((const void *)(table->corrections + side[i] * padded_o + o0)));
                dots[i] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(differing[i]), two, _mm512_set1_ps(table->valid[side[i]]));
            }
        } else if (t->border) {
            for (int i = 0; i < pixels; i++) {
                const bnn_binary_pixel *where = &t->border[i];
                __m512 valid = interior;
                if (where->touches_padding) {
                    const __m512i correction = _mm512_inserti64x4(
                        _mm512_castsi256_si512(bnn_binary_correction_avx2(p, o0, where)),
                        bnn_binary_correction_avx2(p, o0 + BNN_BINARY_BLOCK, where), 1);
                    differing[i] = _mm512_sub_epi32(differing[i], correction);
                    valid = _mm512_set1_ps((float)where->valid_bits);
                }
                dots[i] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(differing[i]), two, valid);
            }
        } else {
#pragma clang loop unroll(full)
            for (int i = 0; i < pixels; i++) dots[i] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(differing[i]), two, interior);
        }
        unrepresentable += emit16_fast(p, q, o0, pixels, dots, packed, flags);
    }
    return unrepresentable;
}

// One specialised row tile per (pixels, half-lane words, epilogue flags, tabulated corrections).
#define BNN_ROW_FAST(name, pixels, half, flags, tabulated)                                                             \
    BNN_AVX512 static int64_t name(const bnn_binary_conv_params *p, int64_t q, const bnn_binary_row_tile *t,       \
                                   const int32_t *offsets, int64_t k_words, int64_t o_end, unsigned runtime) {     \
        (void)runtime;                                                                                             \
        return row_tile_fast(p, q, t, pixels, half, offsets, k_words, o_end, flags,                               \
                             (tabulated) ? (const bnn_padded_params *)(const void *)p : NULL);                    \
    }
#define BNN_ROW_FAST_SET(prefix, tabulated)                                                                            \
    BNN_ROW_FAST(prefix##reactnet_8, 8, 0, BNN_FAST_REACTNET, tabulated)                                             \
    BNN_ROW_FAST(prefix##reactnet_7, 7, 0, BNN_FAST_REACTNET, tabulated)                                             \
    BNN_ROW_FAST(prefix##reactnet_8h, 8, 1, BNN_FAST_REACTNET, tabulated)                                            \
    BNN_ROW_FAST(prefix##reactnet_7h, 7, 1, BNN_FAST_REACTNET, tabulated)                                            \
    BNN_ROW_FAST(prefix##last_8, 8, 0, BNN_FAST_REACTNET_LAST, tabulated)                                            \
    BNN_ROW_FAST(prefix##last_7, 7, 0, BNN_FAST_REACTNET_LAST, tabulated)                                            \
    BNN_ROW_FAST(prefix##last_8h, 8, 1, BNN_FAST_REACTNET_LAST, tabulated)                                           \
    BNN_ROW_FAST(prefix##last_7h, 7, 1, BNN_FAST_REACTNET_LAST, tabulated)                                           \
    BNN_ROW_FAST(prefix##any_8, 8, 0, runtime, tabulated)                                                            \
    BNN_ROW_FAST(prefix##any_7, 7, 0, runtime, tabulated)                                                            \
    BNN_ROW_FAST(prefix##any_8h, 8, 1, runtime, tabulated)                                                           \
    BNN_ROW_FAST(prefix##any_7h, 7, 1, runtime, tabulated)                                                           \
                                                                                                                       \
    BNN_AVX512 static int64_t prefix##dispatch(const bnn_binary_conv_params *p, int64_t q, const bnn_binary_row_tile *t, \
                                               const int32_t *offsets, int64_t k_words, int64_t o_end, unsigned f) {  \
        const int seven = t->pixels == 7, half = p->channels <= 32;                                                   \
        if (f == BNN_FAST_REACTNET) {                                                                                  \
            if (half) return (seven ? prefix##reactnet_7h : prefix##reactnet_8h)(p, q, t, offsets, k_words, o_end, f); \
            return (seven ? prefix##reactnet_7 : prefix##reactnet_8)(p, q, t, offsets, k_words, o_end, f);            \
        }                                                                                                              \
        if (f == BNN_FAST_REACTNET_LAST) {                                                                             \
            if (half) return (seven ? prefix##last_7h : prefix##last_8h)(p, q, t, offsets, k_words, o_end, f);         \
            return (seven ? prefix##last_7 : prefix##last_8)(p, q, t, offsets, k_words, o_end, f);                    \
        }                                                                                                              \
        if (half) return (seven ? prefix##any_7h : prefix##any_8h)(p, q, t, offsets, k_words, o_end, f);               \
        return (seven ? prefix##any_7 : prefix##any_8)(p, q, t, offsets, k_words, o_end, f);                          \
    }
BNN_ROW_FAST_SET(row_fast_, 0)
BNN_ROW_FAST_SET(row_table_, 1)
#undef BNN_ROW_FAST_SET
#undef BNN_ROW_FAST

/// The row-tile fast path: 8 pixels, or 7 for rows of 7, 14, 28… pixels, so that no tile crosses a row;
/// the specialised epilogue when it applies (`fast_flags`), ReActNet's two forms compiled with constant flags.
BNN_AVX512 static int64_t row_tile_avx512(const bnn_binary_conv_params *p, int64_t q, const bnn_binary_row_tile *t,
                                          const int32_t *offsets, int64_t k_words, int64_t o_end) {
    const int flags = fast_flags(p);
    if (flags >= 0) return row_fast_dispatch(p, q, t, offsets, k_words, o_end, (unsigned)flags);
    if (t->pixels == 7) return row_tile_body(p, q, t, 7, offsets, k_words, o_end);
    return row_tile_body(p, q, t, BNN_TILE512_PIXELS, offsets, k_words, o_end);
}

/// `row_tile_avx512` for a call through `bnn_padded_params` (`padding_table_applies`).
BNN_AVX512 static int64_t row_tile_table_avx512(const bnn_binary_conv_params *p, int64_t q, const bnn_binary_row_tile *t,
                                                const int32_t *offsets, int64_t k_words, int64_t o_end) {
    return row_table_dispatch(p, q, t, offsets, k_words, o_end, (unsigned)fast_flags(p));
}

// MARK: - 1×1 convolutions

/// Whether the 1×1 path runs `p`: a 1×1 kernel at stride 1 without padding, a specialised epilogue
/// (`fast_flags`), whole groups of 16 output channels, and either at most 128 input channels (two
/// words) or rows of 7, 14, 28… pixels (taken 7 at a time). Rows of other widths with more
/// channels go to the row tiles, whose 8 pixels per weight load beat steps of 8, 4, 1 there.
static inline int pointwise_applies(const bnn_binary_conv_params *p) {
    const int sevens = p->out_w % 8 != 0 && p->out_w % 7 == 0;
    return p->kernel_h == 1 && p->kernel_w == 1 && p->stride == 1 && p->padding == 0 && (p->channels <= 128 || sevens)
           && p->out_channels % 16 == 0 && fast_flags(p) >= 0;
}

/// XOR-popcounts of `pixels` (1…8) consecutive pixels of a row (pixel i's words at `x + i·words`)
/// against the 16 channels of weight blocks `w0`, `w1`, as 16 channel-ordered 32-bit lanes. With
/// `half` (at most 32 input channels, one word) `wv` holds both blocks' low halves in channel order.
BNN_AVX512 __attribute__((always_inline)) static inline void
pointwise_sums(const uint64_t *x, int64_t words, const int pixels, const int half, __m512i wv, const uint64_t *w0,
               const uint64_t *w1, __m512i differing[BNN_TILE512_PIXELS]) {
    if (half) {
        const uint32_t *x32 = (const uint32_t *)(const void *)x;
#pragma clang loop unroll(full)
        for (int i = 0; i < pixels; i++) {
            differing[i] = _mm512_popcnt_epi32(_mm512_xor_si512(_mm512_set1_epi32((int)x32[2 * i]), wv));
        }
        return;
    }
    __m512i a[BNN_TILE512_PIXELS], b[BNN_TILE512_PIXELS];
#pragma clang loop unroll(full)
    for (int i = 0; i < pixels; i++) a[i] = b[i] = _mm512_setzero_si512();
    for (int64_t k = 0; k < words; k++) {
        const __m512i v0 = _mm512_loadu_si512((const void *)(w0 + k * BNN_BINARY_BLOCK));
        const __m512i v1 = _mm512_loadu_si512((const void *)(w1 + k * BNN_BINARY_BLOCK));
#pragma clang loop unroll(full)
        for (int i = 0; i < pixels; i++) {
            const __m512i input = _mm512_set1_epi64((long long)x[i * words + k]);
            a[i] = _mm512_add_epi64(a[i], _mm512_popcnt_epi64(_mm512_xor_si512(input, v0)));
            b[i] = _mm512_add_epi64(b[i], _mm512_popcnt_epi64(_mm512_xor_si512(input, v1)));
        }
    }
    const __m512i pick = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
#pragma clang loop unroll(full)
    for (int i = 0; i < pixels; i++) differing[i] = _mm512_permutex2var_epi32(a[i], pick, b[i]);
}

/// Output rows [row_begin, row_end) of a 1×1 convolution (`pointwise_applies`): per row and group
/// of 16 channels, its weights (in a register with `half`) and epilogue constants are loaded once and
/// the row's pixels go by in steps of 7 (rows of 7, 14, 28… pixels) or 8, then 4, then 1 (no tile
/// setup per pixel step, no padding).
BNN_AVX512 __attribute__((always_inline)) static inline int64_t
pointwise_rows(const bnn_binary_conv_params *p, int64_t row_begin, int64_t row_end, const int half,
               const unsigned flags) {
    bnn_binary_clear_packed(p, row_begin, row_end);
    const int64_t words = bnn_binary_words(p->channels);
    const int64_t packed_stride = bnn_binary_packed_stride(p);
    const int64_t width = p->out_w, oc = p->out_channels;
    const __m512i pick = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512 two = _mm512_set1_ps(2.0f), valid = _mm512_set1_ps((float)p->channels);
    int64_t unrepresentable = 0;
    for (int64_t row = row_begin; row < row_end; row++) {
        const int64_t n = row / p->out_h, oy = row % p->out_h;
        const uint64_t *base = bnn_binary_pixel_base(p, n, oy, 0);
        uint64_t *packed_row = bnn_binary_packed_output_at(p, n, oy, 0);
        const int64_t q0 = row * width;
        const int odd_row = (int)(row & 1);
        float *const pool_row = (flags & BNN_FAST_POOL) ? p->output + (row / 2) * (width / 2) * bnn_binary_output_stride(p) : NULL;
        for (int64_t o0 = 0; o0 < oc; o0 += 2 * BNN_BINARY_BLOCK) {
            float *const pooled = pool_row ? pool_row + o0 : NULL;
            const uint64_t *w0 = p->weights + (o0 / BNN_BINARY_BLOCK) * words * BNN_BINARY_BLOCK;
            const uint64_t *w1 = w0 + words * BNN_BINARY_BLOCK;
            const __m512i wv = half ? _mm512_permutex2var_epi32(_mm512_loadu_si512((const void *)w0), pick,
                                                                _mm512_loadu_si512((const void *)w1))
                                    : _mm512_setzero_si512();
            int64_t ox = 0;
#define BNN_POINTWISE_STEP(count)                                                                                  \
    for (; ox + (count) <= width; ox += (count)) {                                                                 \
        __m512i differing[BNN_TILE512_PIXELS];                                                                     \
        pointwise_sums(base + ox * words, words, (count), half, wv, w0, w1, differing);                           \
        __m512 dots[BNN_TILE512_PIXELS];                                                                           \
        uint64_t *packed[BNN_TILE512_PIXELS];                                                                      \
        _Pragma("clang loop unroll(full)") for (int i = 0; i < (count); i++) {                                    \
            dots[i] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(differing[i]), two, valid);                              \
            packed[i] = packed_row ? packed_row + (ox + i) * packed_stride : NULL;                                 \
        }                                                                                                          \
        unrepresentable += emit16_pool(p, q0 + ox, o0, (count), dots, packed, flags, pooled, odd_row, ox);         \
    }
            if (width % 8 != 0 && width % 7 == 0) {
                BNN_POINTWISE_STEP(7)
            }
            BNN_POINTWISE_STEP(8)
            BNN_POINTWISE_STEP(4)
            BNN_POINTWISE_STEP(1)
#undef BNN_POINTWISE_STEP
        }
    }
    return unrepresentable;
}

BNN_AVX512 static int64_t pointwise_reactnet(const bnn_binary_conv_params *p, int64_t b, int64_t e) {
    return pointwise_rows(p, b, e, 0, BNN_FAST_REACTNET);
}
BNN_AVX512 static int64_t pointwise_reactnet_half(const bnn_binary_conv_params *p, int64_t b, int64_t e) {
    return pointwise_rows(p, b, e, 1, BNN_FAST_REACTNET);
}
BNN_AVX512 static int64_t pointwise_last(const bnn_binary_conv_params *p, int64_t b, int64_t e) {
    return pointwise_rows(p, b, e, 0, BNN_FAST_REACTNET_LAST);
}
BNN_AVX512 static int64_t pointwise_last_half(const bnn_binary_conv_params *p, int64_t b, int64_t e) {
    return pointwise_rows(p, b, e, 1, BNN_FAST_REACTNET_LAST);
}
BNN_AVX512 static int64_t pointwise_pooled(const bnn_binary_conv_params *p, int64_t b, int64_t e) {
    return pointwise_rows(p, b, e, 0, BNN_FAST_REACTNET | BNN_FAST_POOL);
}
BNN_AVX512 static int64_t pointwise_pooled_half(const bnn_binary_conv_params *p, int64_t b, int64_t e) {
    return pointwise_rows(p, b, e, 1, BNN_FAST_REACTNET | BNN_FAST_POOL);
}
BNN_AVX512 static int64_t pointwise_any(const bnn_binary_conv_params *p, int64_t b, int64_t e) {
    return pointwise_rows(p, b, e, 0, (unsigned)fast_flags(p));
}
BNN_AVX512 static int64_t pointwise_any_half(const bnn_binary_conv_params *p, int64_t b, int64_t e) {
    return pointwise_rows(p, b, e, 1, (unsigned)fast_flags(p));
}

/// Output rows [row_begin, row_end) through the tabulated row tiles alone, when row tiles cover the
/// rows and channels (`out_w` a multiple of `pixels`, O of 16): the shared driver's loop without its
/// per-tile description of border pixels (the table needs only their positions).
BNN_AVX512 static int64_t table_rows(const bnn_padded_params *table, int64_t row_begin, int64_t row_end, int pixels) {
    const bnn_binary_conv_params *p = &table->params;
    const int64_t k_words = p->kernel_h * p->kernel_w * bnn_binary_words(p->channels);
    int32_t local_offsets[1024];
    int32_t *offsets = k_words <= 1024 ? local_offsets : malloc((size_t)k_words * sizeof(int32_t));
    if (!offsets) {
        return bnn_binary_conv_driver(p, row_begin, row_end, BNN_TILE512_PIXELS, tile_pixels_avx512, row_tile_table_avx512,
                                      p->out_channels, pixels);
    }
    bnn_binary_word_offsets(p, offsets);
    bnn_binary_clear_packed(p, row_begin, row_end);
    const unsigned flags = (unsigned)fast_flags(p);
    const int64_t step = p->stride * bnn_binary_words(p->channels);
    const int32_t interior_bits = (int32_t)(p->kernel_h * p->kernel_w * p->channels);
    int64_t unrepresentable = 0;
    bnn_binary_pixel where[BNN_BINARY_MAX_TILE_PIXELS];
    for (int64_t row = row_begin; row < row_end; row++) {
        const int64_t n = row / p->out_h, oy = row % p->out_h;
        const int64_t y0 = oy * p->stride - p->padding;
        const int rows_border = y0 < 0 || y0 + p->kernel_h > p->height;
        for (int64_t ox = 0; ox < p->out_w; ox += pixels) {
            const int64_t x0 = ox * p->stride - p->padding;
            const int border = rows_border || x0 < 0 || x0 + (pixels - 1) * p->stride + p->kernel_w > p->width;
            if (border) {
                for (int i = 0; i < pixels; i++) where[i].oy = oy, where[i].ox = ox + i;
            }
            const bnn_binary_row_tile t = {bnn_binary_pixel_base(p, n, oy, ox), step, bnn_binary_packed_output_at(p, n, oy, ox),
                                           interior_bits, border ? where : NULL, pixels};
            unrepresentable += row_table_dispatch(p, row * p->out_w + ox, &t, offsets, k_words, p->out_channels, flags);
        }
    }
    if (offsets != local_offsets) free(offsets);
    return unrepresentable;
}

BNN_AVX512 int64_t bnn_binary_conv_rows_avx512(const bnn_binary_conv_params *p, int64_t row_begin, int64_t row_end) {
    if (bnn_binary_fast_input(p) && pointwise_applies(p)) {
        const unsigned flags = (unsigned)fast_flags(p);
        const int half = p->channels <= 32;
        if (flags == BNN_FAST_REACTNET) return (half ? pointwise_reactnet_half : pointwise_reactnet)(p, row_begin, row_end);
        if (flags == BNN_FAST_REACTNET_LAST) return (half ? pointwise_last_half : pointwise_last)(p, row_begin, row_end);
        if (flags == (BNN_FAST_REACTNET | BNN_FAST_POOL)) {
            return (half ? pointwise_pooled_half : pointwise_pooled)(p, row_begin, row_end);
        }
        return (half ? pointwise_any_half : pointwise_any)(p, row_begin, row_end);
    }
    const int64_t row_channels = p->out_channels / (2 * BNN_BINARY_BLOCK) * (2 * BNN_BINARY_BLOCK);
    const int row_pixels = p->out_w % BNN_TILE512_PIXELS != 0 && p->out_w % 7 == 0 ? 7 : BNN_TILE512_PIXELS;
    if (bnn_binary_fast_input(p) && padding_table_applies(p)) {
        const int64_t count = 16 * bnn_binary_padded_channels(p->out_channels);
        int32_t local[16 * 1024];
        int32_t *corrections = count <= 16 * 1024 ? local : malloc((size_t)count * sizeof(int32_t));
        if (corrections) {
            bnn_padded_params table = {*p, corrections, {0}};
            fill_padding_table(p, corrections, table.valid);
            const int64_t unrepresentable =
                p->out_w % row_pixels == 0 && row_channels == p->out_channels
                    ? table_rows(&table, row_begin, row_end, row_pixels)
                    : bnn_binary_conv_driver(&table.params, row_begin, row_end, BNN_TILE512_PIXELS, tile_pixels_avx512,
                                             row_tile_table_avx512, row_channels, row_pixels);
            if (corrections != local) free(corrections);
            return unrepresentable;
        }
    }
    return bnn_binary_conv_driver(p, row_begin, row_end, BNN_TILE512_PIXELS, tile_pixels_avx512, row_tile_avx512,
                                  row_channels, row_pixels);
}

#endif
