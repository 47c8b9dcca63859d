// Loops shared by the portable and the AVX-512 element-wise kernels: each file compiles the same
// body for its own vector width, so the two give the same results bit for bit.
#ifndef BNN_ELEMENTWISE_LOOPS_H
#define BNN_ELEMENTWISE_LOOPS_H

#include <math.h>
#include <stddef.h>

/// The body of `bnn_max_pool_row` (see bnn_elementwise.h).
static inline __attribute__((always_inline)) void bnn_max_pool_row_loop(
    const float *restrict image, size_t height, size_t width, size_t channels, size_t kernel, size_t stride,
    size_t padding, size_t oy, size_t out_width, float *restrict out) {
    const long y0 = (long)(oy * stride) - (long)padding;
    const size_t ys = y0 < 0 ? 0 : (size_t)y0, ye = y0 + (long)kernel < (long)height ? (size_t)(y0 + (long)kernel) : height;
    for (size_t ox = 0; ox < out_width; ++ox) {
        const long x0 = (long)(ox * stride) - (long)padding;
        const size_t xs = x0 < 0 ? 0 : (size_t)x0;
        const size_t xe = x0 + (long)kernel < (long)width ? (size_t)(x0 + (long)kernel) : width;
        float *restrict o = out + ox * channels;
        for (size_t ch = 0; ch < channels; ++ch) o[ch] = -INFINITY;
        for (size_t y = ys; y < ye; ++y) {
            for (size_t x = xs; x < xe; ++x) {
                const float *restrict v = image + (y * width + x) * channels;
                for (size_t ch = 0; ch < channels; ++ch) {
                    const float t = v[ch], m = o[ch];
                    o[ch] = ((t > m) | (t != t)) ? t : m;
                }
            }
        }
    }
}

#endif
