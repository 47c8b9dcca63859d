// Memory-bound element-wise passes written as branch-free loops the C compiler vectorises (the clamp-
// and-mask passes dispatch to AVX-512 twins in bnn_elementwise_avx512.c where the CPU has them; the
// equivalent Swift loops compile to a data-dependent branch per element). Every operand is loaded
// unconditionally and the buffers do not overlap, so the selects become vector compares and masks.
//
// The reductions accumulate in Double, either per channel (each channel's running sum is one lane,
// so the order is that of a plain row-by-row loop) or in eight lanes by index (i % 8, added up in a
// fixed order by the caller), which breaks the add latency chain of one running sum. Every multiply
// and add is rounded on its own (no contraction into fused multiply-adds), as the Swift formulas are.
#include "bnn_elementwise.h"
#include "bnn_binary_internal.h"
#include "bnn_elementwise_loops.h"

#include <math.h>
#include <string.h>

#pragma STDC FP_CONTRACT OFF

// A square root without errno semantics vectorises (sqrtf may set errno, which keeps its loop scalar).
#if defined(__has_builtin)
#if __has_builtin(__builtin_elementwise_sqrt)
#define BNN_SQRT(x) __builtin_elementwise_sqrt(x)
#endif
#endif
#ifndef BNN_SQRT
#define BNN_SQRT(x) sqrtf(x)
#endif

void bnn_clamp(const float *restrict x, float *restrict y, size_t n, float lo, float hi) {
    for (size_t i = 0; i < n; i++) {
        const float v = x[i];
        const float low = v < lo ? lo : v;
        y[i] = low > hi ? hi : low;
    }
}

void bnn_clamp_masked(const float *restrict x, float *restrict y, uint64_t *restrict mask, size_t n, float lo,
                      float hi) {
#if defined(__x86_64__)
    if (bnn_binary_has_avx512()) {
        bnn_clamp_masked_avx512(x, y, mask, n, lo, hi);
        return;
    }
#endif
    bnn_clamp_masked_reference(x, y, mask, n, lo, hi);
}

void bnn_clamp_masked_reference(const float *restrict x, float *restrict y, uint64_t *restrict mask, size_t n,
                                float lo, float hi) {
    for (size_t start = 0; start < n; start += 64) {
        const size_t count = n - start < 64 ? n - start : 64;
        uint64_t word = 0;
        for (size_t j = 0; j < count; j++) {
            const float v = x[start + j];
            const float low = v < lo ? lo : v;
            y[start + j] = low > hi ? hi : low;
            word |= (uint64_t)((v > lo) & (v < hi)) << j;
        }
        mask[start / 64] = word;
    }
}

void bnn_mask_select(const float *restrict dy, const uint64_t *restrict mask, float *restrict dx, size_t n) {
#if defined(__x86_64__)
    if (bnn_binary_has_avx512()) {
        bnn_mask_select_avx512(dy, mask, dx, n);
        return;
    }
#endif
    bnn_mask_select_reference(dy, mask, dx, n);
}

void bnn_mask_select_reference(const float *restrict dy, const uint64_t *restrict mask, float *restrict dx, size_t n) {
    for (size_t start = 0; start < n; start += 64) {
        const size_t count = n - start < 64 ? n - start : 64;
        const uint64_t word = mask[start / 64];
        for (size_t j = 0; j < count; j++) {
            const float g = dy[start + j];
            dx[start + j] = ((word >> j) & 1) ? g : 0.0f;
        }
    }
}

void bnn_max_pool_row(const float *restrict image, size_t height, size_t width, size_t channels, size_t kernel,
                      size_t stride, size_t padding, size_t oy, size_t out_width, float *restrict out) {
#if defined(__x86_64__)
    if (bnn_binary_has_avx512()) {
        bnn_max_pool_row_avx512(image, height, width, channels, kernel, stride, padding, oy, out_width, out);
        return;
    }
#endif
    bnn_max_pool_row_reference(image, height, width, channels, kernel, stride, padding, oy, out_width, out);
}

void bnn_max_pool_row_reference(const float *restrict image, size_t height, size_t width, size_t channels,
                                size_t kernel, size_t stride, size_t padding, size_t oy, size_t out_width,
                                float *restrict out) {
    bnn_max_pool_row_loop(image, height, width, channels, kernel, stride, padding, oy, out_width, out);
}

void bnn_max_pool_update(const float *restrict x, int32_t index, float *restrict out, int32_t *restrict argmax,
                         size_t c) {
    if (argmax) {
        for (size_t i = 0; i < c; i++) {
            // An all-ones or all-zero mask, so that both selects become vector masks.
            const float v = x[i], m = out[i];
            const int32_t take = -(int32_t)((v > m) | (v != v));
            out[i] = take ? v : m;
            argmax[i] = (argmax[i] & ~take) | ((index + (int32_t)i) & take);
        }
    } else {
        for (size_t i = 0; i < c; i++) {
            const float v = x[i], m = out[i];
            out[i] = ((v > m) | (v != v)) ? v : m;
        }
    }
}

void bnn_add_clamp_masked(float *restrict a, const float *restrict b, uint64_t *restrict mask, size_t n, float lo,
                          float hi) {
#if defined(__x86_64__)
    if (bnn_binary_has_avx512()) {
        bnn_add_clamp_masked_avx512(a, b, mask, n, lo, hi);
        return;
    }
#endif
    bnn_add_clamp_masked_reference(a, b, mask, n, lo, hi);
}

void bnn_add_clamp_masked_reference(float *restrict a, const float *restrict b, uint64_t *restrict mask, size_t n,
                                    float lo, float hi) {
    for (size_t start = 0; start < n; start += 64) {
        const size_t count = n - start < 64 ? n - start : 64;
        uint64_t word = 0;
        for (size_t j = 0; j < count; j++) {
            const float v = a[start + j] + b[start + j];
            const float low = v < lo ? lo : v;
            a[start + j] = low > hi ? hi : low;
            word |= (uint64_t)((v > lo) & (v < hi)) << j;
        }
        mask[start / 64] = word;
    }
}

void bnn_lane_sum_squares(const float *restrict x, size_t n, double *restrict lanes) {
    double s[8], q[8];
    for (int j = 0; j < 8; j++) { s[j] = lanes[j]; q[j] = lanes[8 + j]; }
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        for (int j = 0; j < 8; j++) {
            const double v = x[i + j];
            s[j] += v;
            q[j] += v * v;
        }
    }
    for (int j = 0; i + j < n; j++) {
        const double v = x[i + j];
        s[j] += v;
        q[j] += v * v;
    }
    for (int j = 0; j < 8; j++) { lanes[j] = s[j]; lanes[8 + j] = q[j]; }
}

void bnn_lane_dot_sum(const float *restrict a, const float *restrict b, size_t n, double *restrict lanes) {
    double d[8], s[8];
    for (int j = 0; j < 8; j++) { d[j] = lanes[j]; s[j] = lanes[8 + j]; }
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        for (int j = 0; j < 8; j++) {
            const double u = b[i + j];
            d[j] += (double)a[i + j] * u;
            s[j] += u;
        }
    }
    for (int j = 0; i + j < n; j++) {
        const double u = b[i + j];
        d[j] += (double)a[i + j] * u;
        s[j] += u;
    }
    for (int j = 0; j < 8; j++) { lanes[j] = d[j]; lanes[8 + j] = s[j]; }
}

void bnn_channel_sum_squares(const float *restrict x, size_t rows, size_t c, double *restrict sums) {
    for (size_t r = 0; r < rows; r++) {
        const float *row = x + r * c;
        for (size_t j = 0; j < c; j++) {
            const double v = row[j];
            sums[j] += v;
            sums[c + j] += v * v;
        }
    }
}

void bnn_channel_sum_dot(const float *restrict dy, const float *restrict xhat, size_t rows, size_t c,
                         double *restrict sums) {
    for (size_t r = 0; r < rows; r++) {
        const float *g = dy + r * c, *h = xhat + r * c;
        for (size_t j = 0; j < c; j++) {
            const double d = g[j];
            sums[j] += d;
            sums[c + j] += d * (double)h[j];
        }
    }
}

void bnn_batchnorm_normalize(const float *restrict x, size_t rows, size_t c, const float *restrict constants,
                             float *restrict xhat, float *restrict y) {
    const float *scale = constants, *shift = constants + c, *gamma = constants + 2 * c, *beta = constants + 3 * c;
    for (size_t r = 0; r < rows; r++) {
        const size_t base = r * c;
        if (xhat) {
            for (size_t j = 0; j < c; j++) {
                const float h = x[base + j] * scale[j] + shift[j];
                xhat[base + j] = h;
                y[base + j] = h * gamma[j] + beta[j];
            }
        } else {
            for (size_t j = 0; j < c; j++) {
                const float h = x[base + j] * scale[j] + shift[j];
                y[base + j] = h * gamma[j] + beta[j];
            }
        }
    }
}

void bnn_batchnorm_input_gradient(const float *restrict dy, const float *restrict xhat, size_t rows, size_t c,
                                  const float *restrict constants, float *restrict dx) {
    const float *scale = constants, *meanDy = constants + c, *meanDyXhat = constants + 2 * c;
    for (size_t r = 0; r < rows; r++) {
        const size_t base = r * c;
        for (size_t j = 0; j < c; j++) {
            dx[base + j] = scale[j] * (dy[base + j] - meanDy[j] - xhat[base + j] * meanDyXhat[j]);
        }
    }
}

void bnn_channel_affine(const float *restrict x, size_t rows, size_t c, const float *restrict scale,
                        const float *restrict shift, float *restrict y) {
    for (size_t r = 0; r < rows; r++) {
        const size_t base = r * c;
        for (size_t j = 0; j < c; j++) y[base + j] = x[base + j] * scale[j] + shift[j];
    }
}

void bnn_channel_add(const float *x, size_t rows, size_t c, const float *restrict v, float *y) {
    for (size_t r = 0; r < rows; r++) {
        const size_t base = r * c;
        for (size_t j = 0; j < c; j++) y[base + j] = x[base + j] + v[j];
    }
}

void bnn_channel_sum(const float *restrict x, size_t rows, size_t c, double *restrict sums) {
    for (size_t r = 0; r < rows; r++) {
        const float *row = x + r * c;
        for (size_t j = 0; j < c; j++) sums[j] += row[j];
    }
}

void bnn_prelu_forward(const float *restrict x, size_t rows, size_t c, const float *restrict slopes,
                       float *restrict y) {
#if defined(__x86_64__)
    if (bnn_binary_has_avx512()) {
        bnn_prelu_forward_avx512(x, rows, c, slopes, y);
        return;
    }
#endif
    bnn_prelu_forward_reference(x, rows, c, slopes, y);
}

void bnn_prelu_backward(const float *restrict x, const float *restrict dy, size_t rows, size_t c,
                        const float *restrict slopes, float *restrict dx, double *restrict sums) {
#if defined(__x86_64__)
    if (bnn_binary_has_avx512()) {
        bnn_prelu_backward_avx512(x, dy, rows, c, slopes, dx, sums);
        return;
    }
#endif
    bnn_prelu_backward_reference(x, dy, rows, c, slopes, dx, sums);
}

void bnn_rprelu_forward(const float *restrict x, size_t rows, size_t c, const float *restrict before,
                        const float *restrict slopes, const float *restrict after, float *restrict y) {
#if defined(__x86_64__)
    if (bnn_binary_has_avx512()) {
        bnn_rprelu_forward_avx512(x, rows, c, before, slopes, after, y);
        return;
    }
#endif
    bnn_rprelu_forward_reference(x, rows, c, before, slopes, after, y);
}

void bnn_rprelu_backward(const float *restrict x, const float *restrict dy, size_t rows, size_t c,
                         const float *restrict before, const float *restrict slopes, float *restrict dx,
                         double *restrict sums) {
#if defined(__x86_64__)
    if (bnn_binary_has_avx512()) {
        bnn_rprelu_backward_avx512(x, dy, rows, c, before, slopes, dx, sums);
        return;
    }
#endif
    bnn_rprelu_backward_reference(x, dy, rows, c, before, slopes, dx, sums);
}

void bnn_prelu_forward_reference(const float *restrict x, size_t rows, size_t c, const float *restrict slopes,
                                 float *restrict y) {
    bnn_prelu_forward_loop(x, rows, c, slopes, y);
}

void bnn_prelu_backward_reference(const float *restrict x, const float *restrict dy, size_t rows, size_t c,
                                  const float *restrict slopes, float *restrict dx, double *restrict sums) {
    bnn_prelu_backward_loop(x, dy, rows, c, slopes, dx, sums);
}

void bnn_rprelu_forward_reference(const float *restrict x, size_t rows, size_t c, const float *restrict before,
                                  const float *restrict slopes, const float *restrict after, float *restrict y) {
    bnn_rprelu_forward_loop(x, rows, c, before, slopes, after, y);
}

void bnn_rprelu_backward_reference(const float *restrict x, const float *restrict dy, size_t rows, size_t c,
                                   const float *restrict before, const float *restrict slopes, float *restrict dx,
                                   double *restrict sums) {
    bnn_rprelu_backward_loop(x, dy, rows, c, before, slopes, dx, sums);
}

void bnn_scale(const float *restrict x, float s, float *restrict y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = x[i] * s;
}

void bnn_normalized_sign_gradient(const float *restrict g, const float *restrict u, size_t n, float r, float meanU,
                                  float k, float *restrict dx) {
    for (size_t i = 0; i < n; i++) dx[i] = g[i] * r - (u[i] - meanU) * k;
}

// One Adam element; the flags are constants in each loop of bnn_adam_step, so every loop is branch-free.
static inline void adam_element(const float *restrict g, float *restrict m, float *restrict v, float *restrict p,
                                size_t i, const bnn_adam_coefficients *k, int decays, int lerpsFromStart) {
    float grad = g[i];
    if (decays) grad = grad + k->decay * p[i];
    const float mi = m[i];
    const float mn = lerpsFromStart ? mi + k->weight1 * (grad - mi) : grad - (grad - mi) * (1.0f - k->weight1);
    m[i] = mn;
    const float vn = v[i] * k->beta2 + k->weight2 * grad * grad;
    v[i] = vn;
    const float denominator = BNN_SQRT(vn) / k->rootCorrection + k->epsilon;
    p[i] = p[i] + k->negativeStepSize * (mn / denominator);
}

void bnn_adam_step(const float *restrict g, float *restrict m, float *restrict v, float *restrict p, size_t n,
                   const bnn_adam_coefficients *coefficients) {
    const bnn_adam_coefficients k = *coefficients;
    const int decays = k.decay != 0, lerpsFromStart = k.weight1 < 0.5f;
    if (decays && lerpsFromStart) {
        for (size_t i = 0; i < n; i++) adam_element(g, m, v, p, i, &k, 1, 1);
    } else if (decays) {
        for (size_t i = 0; i < n; i++) adam_element(g, m, v, p, i, &k, 1, 0);
    } else if (lerpsFromStart) {
        for (size_t i = 0; i < n; i++) adam_element(g, m, v, p, i, &k, 0, 1);
    } else {
        for (size_t i = 0; i < n; i++) adam_element(g, m, v, p, i, &k, 0, 0);
    }
}

void bnn_lane_abs_sum(const float *restrict x, size_t n, double *restrict lanes) {
    double s[8];
    for (int j = 0; j < 8; j++) s[j] = lanes[j];
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        for (int j = 0; j < 8; j++) s[j] += fabs((double)x[i + j]);
    }
    for (int j = 0; i + j < n; j++) s[j] += fabs((double)x[i + j]);
    for (int j = 0; j < 8; j++) lanes[j] = s[j];
}
