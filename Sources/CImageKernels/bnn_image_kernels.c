#include "bnn_image_kernels.h"
#include "bnn_cpu.h"

#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define BNN_AVX2 __attribute__((target("avx2")))

int bnn_resample_avx2_available(void) {
    return (bnn_cpu_features() & BNN_CPU_AVX2_FMA_POPCNT) != 0;
}

enum { PRECISION_BITS = 22 };

/// Loads the 3 bytes of one pixel zero-extended into lanes 0-2 (lane 3 is 0), never reading past it.
BNN_AVX2 static inline __m128i load_pixel(const uint8_t *p) {
    uint32_t v = (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16);
    return _mm_cvtepu8_epi32(_mm_cvtsi32_si128((int)v));
}

/// Clips the 32-bit sums in lanes 0-2 (>> PRECISION_BITS) to bytes and stores them as one pixel.
BNN_AVX2 static inline void store_pixel(uint8_t *out, __m128i sums) {
    __m128i v = _mm_srai_epi32(sums, PRECISION_BITS);
    v = _mm_packus_epi16(_mm_packs_epi32(v, v), v);
    uint32_t bytes = (uint32_t)_mm_cvtsi128_si32(v);
    out[0] = (uint8_t)bytes;
    out[1] = (uint8_t)(bytes >> 8);
    out[2] = (uint8_t)(bytes >> 16);
}

/// One output pixel of one row, reading exactly 3 bytes per input pixel (safe at the end of a buffer).
BNN_AVX2 static inline void horizontal_pixel(const uint8_t *p, const int32_t *k, int taps, uint8_t *out) {
    __m128i acc = _mm_set1_epi32(1 << (PRECISION_BITS - 1));
    for (int t = 0; t < taps; t++) {
        acc = _mm_add_epi32(acc, _mm_mullo_epi32(load_pixel(p + 3 * t), _mm_set1_epi32(k[t])));
    }
    store_pixel(out, acc);
}

BNN_AVX2 void bnn_resample_horizontal_avx2(const uint8_t *src, size_t src_row_pixels, int rows, uint8_t *dst,
                                           int out_width, const int32_t *first, const int32_t *weights, int taps) {
    const size_t stride = src_row_pixels * 3;
    const __m256i half = _mm256_set1_epi32(1 << (PRECISION_BITS - 1));
    int r = 0;
    // Two rows at a time in one 256-bit register (row r in lanes 0-3, row r + 1 in lanes 4-7). Pixels are
    // read as 4 bytes, the 4th lane ignored: safe because a later row follows both rows in the buffer.
    for (; r + 2 < rows; r += 2) {
        const uint8_t *row0 = src + (size_t)r * stride;
        uint8_t *out0 = dst + (size_t)r * out_width * 3;
        uint8_t *out1 = out0 + (size_t)out_width * 3;
        for (int x = 0; x < out_width; x++) {
            const uint8_t *p = row0 + (size_t)first[x] * 3;
            const int32_t *k = weights + (size_t)x * taps;
            __m256i acc = half;
            for (int t = 0; t < taps; t++) {
                uint32_t a, b;
                memcpy(&a, p + 3 * t, 4);
                memcpy(&b, p + stride + 3 * t, 4);
                __m128i bytes = _mm_unpacklo_epi32(_mm_cvtsi32_si128((int)a), _mm_cvtsi32_si128((int)b));
                acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(bytes), _mm256_set1_epi32(k[t])));
            }
            store_pixel(out0 + 3 * x, _mm256_castsi256_si128(acc));
            store_pixel(out1 + 3 * x, _mm256_extracti128_si256(acc, 1));
        }
    }
    for (; r < rows; r++) {
        const uint8_t *row = src + (size_t)r * stride;
        uint8_t *out = dst + (size_t)r * out_width * 3;
        for (int x = 0; x < out_width; x++) {
            horizontal_pixel(row + (size_t)first[x] * 3, weights + (size_t)x * taps, taps, out + 3 * x);
        }
    }
}

BNN_AVX2 void bnn_resample_vertical_avx2(const uint8_t *src, size_t row_bytes, uint8_t *dst, int out_height,
                                         const int32_t *first, const int32_t *weights, int taps) {
    const __m256i half = _mm256_set1_epi32(1 << (PRECISION_BITS - 1));
    for (int y = 0; y < out_height; y++) {
        const uint8_t *base = src + (size_t)first[y] * row_bytes;
        const int32_t *k = weights + (size_t)y * taps;
        uint8_t *out = dst + (size_t)y * row_bytes;
        size_t i = 0;
        for (; i + 16 <= row_bytes; i += 16) {
            __m256i lo = half, hi = half;
            for (int t = 0; t < taps; t++) {
                __m128i bytes = _mm_loadu_si128((const __m128i *)(base + (size_t)t * row_bytes + i));
                __m256i w = _mm256_set1_epi32(k[t]);
                lo = _mm256_add_epi32(lo, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(bytes), w));
                hi = _mm256_add_epi32(hi, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(_mm_srli_si128(bytes, 8)), w));
            }
            lo = _mm256_srai_epi32(lo, PRECISION_BITS);
            hi = _mm256_srai_epi32(hi, PRECISION_BITS);
            __m256i words = _mm256_permute4x64_epi64(_mm256_packs_epi32(lo, hi), 0xD8);
            __m128i packed = _mm_packus_epi16(_mm256_castsi256_si128(words), _mm256_extracti128_si256(words, 1));
            _mm_storeu_si128((__m128i *)(out + i), packed);
        }
        for (; i < row_bytes; i++) {
            int32_t acc = 1 << (PRECISION_BITS - 1);
            for (int t = 0; t < taps; t++) { acc += (int32_t)base[(size_t)t * row_bytes + i] * k[t]; }
            acc >>= PRECISION_BITS;
            out[i] = (uint8_t)(acc < 0 ? 0 : acc > 255 ? 255 : acc);
        }
    }
}

#else

int bnn_resample_avx2_available(void) { return 0; }

void bnn_resample_horizontal_avx2(const uint8_t *src, size_t src_row_pixels, int rows, uint8_t *dst,
                                  int out_width, const int32_t *first, const int32_t *weights, int taps) {
    // Never called: bnn_resample_avx2_available() is 0 off x86_64.
    (void)src; (void)src_row_pixels; (void)rows; (void)dst; (void)out_width; (void)first; (void)weights; (void)taps;
}

void bnn_resample_vertical_avx2(const uint8_t *src, size_t row_bytes, uint8_t *dst, int out_height,
                                const int32_t *first, const int32_t *weights, int taps) {
    // Never called: bnn_resample_avx2_available() is 0 off x86_64.
    (void)src; (void)row_bytes; (void)dst; (void)out_height; (void)first; (void)weights; (void)taps;
}

#endif
