// AVX-512 twins of the clamp-and-mask passes (see bnn_elementwise.c for the portable ones): a vector
// compare gives 16 bits of the mask at once (the portable loop builds them one by one), and masked
// loads and stores take the ragged end of each 64-element word. The clamp is vmaxps(lo, v) then
// vminps(hi, ·), whose operand order gives exactly the portable selects, NaN and ±0 included.
#include "bnn_elementwise.h"
#include "bnn_elementwise_loops.h"

#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang fp contract(off)

#define BNN_AVX512 __attribute__((target("avx2,avx512f,avx512bw,avx512vl")))

// The lanes of the 16-value piece at `q` of a word of `count` values that exist.
BNN_AVX512 static inline __mmask16 valid_lanes(size_t count, size_t q) {
    const size_t left = count - q;
    return left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
}

// Clamps `v` into `y` (only the valid lanes) and returns the bits where lo < v < hi.
BNN_AVX512 static inline __mmask16 clamp_piece(__m512 v, __m512 lo, __m512 hi, __mmask16 valid, float *y) {
    _mm512_mask_storeu_ps(y, valid, _mm512_min_ps(hi, _mm512_max_ps(lo, v)));
    return _mm512_mask_cmp_ps_mask(_mm512_mask_cmp_ps_mask(valid, v, lo, _CMP_GT_OQ), v, hi, _CMP_LT_OQ);
}

// The clamp-and-mask loop over 64-value words of `x` (plus `b` when it is set, a compile-time NULL
// after inlining otherwise), the clamped values into `y` (which may be `x`).
BNN_AVX512 static inline __attribute__((always_inline)) void
clamp_words(const float *x, const float *b, float *y, uint64_t *restrict mask, size_t n, float lo, float hi) {
    const __m512 l = _mm512_set1_ps(lo), h = _mm512_set1_ps(hi);
    for (size_t start = 0; start < n; start += 64) {
        const size_t count = n - start < 64 ? n - start : 64;
        uint64_t word = 0;
        for (size_t q = 0; q < count; q += 16) {
            const __mmask16 valid = valid_lanes(count, q);
            __m512 v = _mm512_maskz_loadu_ps(valid, x + start + q);
            if (b) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(valid, b + start + q));
            word |= (uint64_t)clamp_piece(v, l, h, valid, y + start + q) << q;
        }
        mask[start / 64] = word;
    }
}

BNN_AVX512 void bnn_clamp_masked_avx512(const float *restrict x, float *restrict y, uint64_t *restrict mask, size_t n,
                                        float lo, float hi) {
    clamp_words(x, NULL, y, mask, n, lo, hi);
}

BNN_AVX512 void bnn_add_clamp_masked_avx512(float *restrict a, const float *restrict b, uint64_t *restrict mask,
                                            size_t n, float lo, float hi) {
    clamp_words(a, b, a, mask, n, lo, hi);
}

BNN_AVX512 void bnn_mask_select_avx512(const float *restrict dy, const uint64_t *restrict mask, float *restrict dx,
                                       size_t n) {
    for (size_t start = 0; start < n; start += 64) {
        const size_t count = n - start < 64 ? n - start : 64;
        const uint64_t word = mask[start / 64];
        for (size_t q = 0; q < count; q += 16) {
            const __mmask16 valid = valid_lanes(count, q);
            // Unset lanes load as +0, the portable select's 0.0f.
            const __m512 g = _mm512_maskz_loadu_ps((__mmask16)(word >> q) & valid, dy + start + q);
            _mm512_mask_storeu_ps(dx + start + q, valid, g);
        }
    }
}
BNN_AVX512 void bnn_max_pool_row_avx512(const float *restrict image, size_t height, size_t width, size_t channels,
                                        size_t kernel, size_t stride, size_t padding, size_t oy, size_t out_width,
                                        float *restrict out) {
    bnn_max_pool_row_loop(image, height, width, channels, kernel, stride, padding, oy, out_width, out);
}

BNN_AVX512 void bnn_prelu_forward_avx512(const float *restrict x, size_t rows, size_t c, const float *restrict slopes,
                                         float *restrict y) {
    bnn_prelu_forward_loop(x, rows, c, slopes, y);
}

BNN_AVX512 void bnn_prelu_backward_avx512(const float *restrict x, const float *restrict dy, size_t rows, size_t c,
                                          const float *restrict slopes, float *restrict dx, double *restrict sums) {
    bnn_prelu_backward_loop(x, dy, rows, c, slopes, dx, sums);
}

BNN_AVX512 void bnn_rprelu_forward_avx512(const float *restrict x, size_t rows, size_t c, const float *restrict before,
                                          const float *restrict slopes, const float *restrict after,
                                          float *restrict y) {
    bnn_rprelu_forward_loop(x, rows, c, before, slopes, after, y);
}

BNN_AVX512 void bnn_rprelu_backward_avx512(const float *restrict x, const float *restrict dy, size_t rows, size_t c,
                                           const float *restrict before, const float *restrict slopes,
                                           float *restrict dx, double *restrict sums) {
    bnn_rprelu_backward_loop(x, dy, rows, c, before, slopes, dx, sums);
}

#endif
