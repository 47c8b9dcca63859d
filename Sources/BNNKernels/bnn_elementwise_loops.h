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

/// The body of `bnn_prelu_forward`: both candidates computed, then selected (branch-free, so that
/// it vectorises; the signs of activations are unpredictable).
static inline __attribute__((always_inline)) void bnn_prelu_forward_loop(
    const float *restrict x, size_t rows, size_t c, const float *restrict slopes, float *restrict y) {
    for (size_t r = 0; r < rows; r++) {
        const size_t base = r * c;
        for (size_t j = 0; j < c; j++) {
            const float v = x[base + j], scaled = slopes[j] * v;
            y[base + j] = v > 0 ? v : scaled;
        }
    }
}

/// The body of `bnn_prelu_backward` (branch-free like `bnn_prelu_forward_loop`).
static inline __attribute__((always_inline)) void bnn_prelu_backward_loop(
    const float *restrict x, const float *restrict dy, size_t rows, size_t c, const float *restrict slopes,
    float *restrict dx, double *restrict sums) {
    for (size_t r = 0; r < rows; r++) {
        const size_t base = r * c;
        for (size_t j = 0; j < c; j++) {
            const float v = x[base + j], g = dy[base + j], scaled = slopes[j] * g;
            const double product = (double)g * (double)v;
            const int positive = v > 0;
            dx[base + j] = positive ? g : scaled;
            sums[j] += positive ? 0.0 : product;
        }
    }
}

/// The body of `bnn_rprelu_forward` (branch-free).
static inline __attribute__((always_inline)) void bnn_rprelu_forward_loop(
    const float *restrict x, size_t rows, size_t c, const float *restrict before, const float *restrict slopes,
    const float *restrict after, float *restrict y) {
    for (size_t r = 0; r < rows; r++) {
        const size_t base = r * c;
        for (size_t j = 0; j < c; j++) {
            const float t = x[base + j] + before[j], scaled = slopes[j] * t;
            const float p = t > 0 ? t : scaled;
            y[base + j] = p + after[j];
        }
    }
}

/// The body of `bnn_rprelu_backward` (branch-free).
static inline __attribute__((always_inline)) void bnn_rprelu_backward_loop(
    const float *restrict x, const float *restrict dy, size_t rows, size_t c, const float *restrict before,
    const float *restrict slopes, float *restrict dx, double *restrict sums) {
    for (size_t r = 0; r < rows; r++) {
        const size_t base = r * c;
        for (size_t j = 0; j < c; j++) {
            const float t = x[base + j] + before[j], g = dy[base + j], scaled = slopes[j] * g;
            const double product = (double)g * (double)t;
            const int positive = t > 0;
            const float d = positive ? g : scaled;
            dx[base + j] = d;
            sums[j] += g;
            sums[c + j] += positive ? 0.0 : product;
            sums[2 * c + j] += d;
        }
    }
}

#endif
