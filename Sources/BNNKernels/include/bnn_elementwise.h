#ifndef BNN_ELEMENTWISE_H
#define BNN_ELEMENTWISE_H

#include <stddef.h>
#include <stdint.h>

/// `y[i] = min(max(x[i], lo), hi)` for `i < n`; `x` and `y` must not overlap.
void bnn_clamp(const float *restrict x, float *restrict y, size_t n, float lo, float hi);

/// `bnn_clamp`, and bit `i % 64` of `mask[i / 64]` set where `lo < x[i] < hi` (where the clamp's
/// gradient passes): ⌈n/64⌉ words, the bits past `n` clear. The buffers must not overlap.
void bnn_clamp_masked(const float *restrict x, float *restrict y, uint64_t *restrict mask, size_t n, float lo,
                      float hi);

/// `dx[i] = dy[i]` where bit `i % 64` of `mask[i / 64]` is set, else 0, for `i < n` (the backward pass
/// of `bnn_clamp_masked`); the buffers must not overlap.
void bnn_mask_select(const float *restrict dy, const uint64_t *restrict mask, float *restrict dx, size_t n);

/// Portable twins of `bnn_clamp_masked`, `bnn_add_clamp_masked` and `bnn_mask_select`.
void bnn_clamp_masked_reference(const float *restrict x, float *restrict y, uint64_t *restrict mask, size_t n,
                                float lo, float hi);
void bnn_add_clamp_masked_reference(float *restrict a, const float *restrict b, uint64_t *restrict mask, size_t n,
                                    float lo, float hi);
void bnn_mask_select_reference(const float *restrict dy, const uint64_t *restrict mask, float *restrict dx, size_t n);
#if defined(__x86_64__)
/// AVX-512 twins of `bnn_clamp_masked`, `bnn_add_clamp_masked` and `bnn_mask_select` (x86_64 only);
/// call only when the CPU has AVX-512 F, BW and VL.
void bnn_clamp_masked_avx512(const float *restrict x, float *restrict y, uint64_t *restrict mask, size_t n,
                             float lo, float hi);
void bnn_add_clamp_masked_avx512(float *restrict a, const float *restrict b, uint64_t *restrict mask, size_t n,
                                 float lo, float hi);
void bnn_mask_select_avx512(const float *restrict dy, const uint64_t *restrict mask, float *restrict dx, size_t n);
#endif

/// One window position of a max pool: for `i < c`, where `x[i] > out[i]` or `x[i]` is NaN (the first
/// maximum wins ties; NaN propagates), `out[i] = x[i]` and, when `argmax` is not NULL,
/// `argmax[i] = index + i`. The buffers must not overlap.
void bnn_max_pool_update(const float *restrict x, int32_t index, float *restrict out, int32_t *restrict argmax,
                         size_t c);

/// Output row `oy` of a `kernel`×`kernel` max pool with `stride` and `padding` (positions past the
/// border do not count) of an H×W×C `image`: `out_width`·C floats into `out`. The first maximum
/// wins ties and NaN propagates, as in `bnn_max_pool_update`. The buffers must not overlap.
void bnn_max_pool_row(const float *restrict image, size_t height, size_t width, size_t channels, size_t kernel,
                      size_t stride, size_t padding, size_t oy, size_t out_width, float *restrict out);
/// Portable twin of `bnn_max_pool_row`.
void bnn_max_pool_row_reference(const float *restrict image, size_t height, size_t width, size_t channels,
                                size_t kernel, size_t stride, size_t padding, size_t oy, size_t out_width,
                                float *restrict out);
#if defined(__x86_64__)
/// AVX-512 twin of `bnn_max_pool_row` (the same loop in 512-bit vectors); call only when the CPU has
/// AVX-512 F, BW and VL.
void bnn_max_pool_row_avx512(const float *restrict image, size_t height, size_t width, size_t channels,
                             size_t kernel, size_t stride, size_t padding, size_t oy, size_t out_width,
                             float *restrict out);
#endif

/// `bnn_clamp_masked` of `a[i] + b[i]` (the sum rounded to float first) in place: the clamped sum
/// into `a` and the mask of where `lo < a[i] + b[i] < hi`. The buffers must not overlap.
void bnn_add_clamp_masked(float *restrict a, const float *restrict b, uint64_t *restrict mask, size_t n, float lo,
                          float hi);

/// Adds `x[i]` into `lanes[i % 8]` and `x[i]²` into `lanes[8 + i % 8]` (16 Doubles, the products in
/// Double). Calls over consecutive pieces of a longer array whose lengths are multiples of 8 give the
/// same lanes as one call over the whole.
void bnn_lane_sum_squares(const float *restrict x, size_t n, double *restrict lanes);

/// Adds `a[i]·b[i]` into `lanes[i % 8]` and `b[i]` into `lanes[8 + i % 8]` (16 Doubles, the products
/// in Double); pieces combine as for `bnn_lane_sum_squares`.
void bnn_lane_dot_sum(const float *restrict a, const float *restrict b, size_t n, double *restrict lanes);

/// For `rows` rows of `c` channels: `sums[j] += x[r][j]` and `sums[c + j] += x[r][j]²` in Double,
/// row by row.
void bnn_channel_sum_squares(const float *restrict x, size_t rows, size_t c, double *restrict sums);

/// For `rows` rows of `c` channels: `sums[j] += dy[r][j]` and `sums[c + j] += dy[r][j]·xhat[r][j]`
/// in Double, row by row.
void bnn_channel_sum_dot(const float *restrict dy, const float *restrict xhat, size_t rows, size_t c,
                         double *restrict sums);

/// BatchNorm's output for `rows` rows of `c` channels, with `constants` = scale, shift, γ, β (c each):
/// `h = x·scale + shift`, `y = h·γ + β` (each product and sum rounded), and `xhat = h` when `xhat`
/// is not NULL. The buffers must not overlap.
void bnn_batchnorm_normalize(const float *restrict x, size_t rows, size_t c, const float *restrict constants,
                             float *restrict xhat, float *restrict y);

/// BatchNorm's input gradient for `rows` rows of `c` channels, with `constants` = scale, mean(dy),
/// mean(dy·x̂) (c each): `dx = scale·((dy − mean(dy)) − x̂·mean(dy·x̂))`. The buffers must not overlap.
void bnn_batchnorm_input_gradient(const float *restrict dy, const float *restrict xhat, size_t rows, size_t c,
                                  const float *restrict constants, float *restrict dx);

/// `y[r][j] = x[r][j]·scale[j] + shift[j]` for `rows` rows of `c` channels (the product rounded
/// before the sum). The buffers must not overlap.
void bnn_channel_affine(const float *restrict x, size_t rows, size_t c, const float *restrict scale,
                        const float *restrict shift, float *restrict y);

/// `y[r][j] = x[r][j] + v[j]` for `rows` rows of `c` channels; `y` may be `x` (in place).
void bnn_channel_add(const float *x, size_t rows, size_t c, const float *restrict v, float *y);

/// For `rows` rows of `c` channels: `sums[j] += x[r][j]` in Double, row by row.
void bnn_channel_sum(const float *restrict x, size_t rows, size_t c, double *restrict sums);

/// Parametric ReLU over `rows` rows of `c` channels: `y = x > 0 ? x : slopes[j]·x`. The buffers must
/// not overlap.
void bnn_prelu_forward(const float *restrict x, size_t rows, size_t c, const float *restrict slopes,
                       float *restrict y);

/// The backward pass of `bnn_prelu_forward`: `dx = x > 0 ? dy : slopes[j]·dy`, and `sums[j] +=
/// dy·x` (in Double, row by row) where `x` is not positive. The buffers must not overlap.
void bnn_prelu_backward(const float *restrict x, const float *restrict dy, size_t rows, size_t c,
                        const float *restrict slopes, float *restrict dx, double *restrict sums);

/// ReActNet's RPReLU over `rows` rows of `c` channels: `t = x + before[j]`, `y = (t > 0 ? t :
/// slopes[j]·t) + after[j]`, each step rounded to float. The buffers must not overlap.
void bnn_rprelu_forward(const float *restrict x, size_t rows, size_t c, const float *restrict before,
                        const float *restrict slopes, const float *restrict after, float *restrict y);

/// The backward pass of `bnn_rprelu_forward`: `dx = t > 0 ? dy : slopes[j]·dy`, and in Double, row by
/// row, `sums[j] += dy`, `sums[c + j] += dy·t` where `t` is not positive, `sums[2c + j] += dx`. The
/// buffers must not overlap.
void bnn_rprelu_backward(const float *restrict x, const float *restrict dy, size_t rows, size_t c,
                         const float *restrict before, const float *restrict slopes, float *restrict dx,
                         double *restrict sums);

/// Portable twins of the (R)PReLU passes.
void bnn_prelu_forward_reference(const float *restrict x, size_t rows, size_t c, const float *restrict slopes,
                                 float *restrict y);
void bnn_prelu_backward_reference(const float *restrict x, const float *restrict dy, size_t rows, size_t c,
                                  const float *restrict slopes, float *restrict dx, double *restrict sums);
void bnn_rprelu_forward_reference(const float *restrict x, size_t rows, size_t c, const float *restrict before,
                                  const float *restrict slopes, const float *restrict after, float *restrict y);
void bnn_rprelu_backward_reference(const float *restrict x, const float *restrict dy, size_t rows, size_t c,
                                   const float *restrict before, const float *restrict slopes, float *restrict dx,
                                   double *restrict sums);
#if defined(__x86_64__)
/// AVX-512 twins of the (R)PReLU passes (the same loops in 512-bit vectors, bit-identical); call only
/// when the CPU has AVX-512 F, BW and VL.
void bnn_prelu_forward_avx512(const float *restrict x, size_t rows, size_t c, const float *restrict slopes,
                              float *restrict y);
void bnn_prelu_backward_avx512(const float *restrict x, const float *restrict dy, size_t rows, size_t c,
                               const float *restrict slopes, float *restrict dx, double *restrict sums);
void bnn_rprelu_forward_avx512(const float *restrict x, size_t rows, size_t c, const float *restrict before,
                               const float *restrict slopes, const float *restrict after, float *restrict y);
void bnn_rprelu_backward_avx512(const float *restrict x, const float *restrict dy, size_t rows, size_t c,
                                const float *restrict before, const float *restrict slopes, float *restrict dx,
                                double *restrict sums);
#endif

/// `y[i] = x[i]·s` for `i < n`; the buffers must not overlap.
void bnn_scale(const float *restrict x, float s, float *restrict y, size_t n);

/// The input gradient of a variance normalisation u = x·r (r = 1/σ of a sample, ū the mean of u,
/// `k` = r·mean(g·u)) given the gradient `g` with respect to u: `dx[i] = g[i]·r − (u[i] − ū)·k`,
/// each product and difference rounded. The buffers must not overlap.
void bnn_normalized_sign_gradient(const float *restrict g, const float *restrict u, size_t n, float r, float meanU,
                                  float k, float *restrict dx);

/// The `Float` coefficients of one Adam step (see `bnn_adam_step`).
typedef struct {
    float decay;            ///< L2 decay λ₂ added to the gradient as λ₂·θ (0 for none)
    float weight1;          ///< 1 − β₁
    float beta2;            ///< β₂
    float weight2;          ///< 1 − β₂
    float rootCorrection;   ///< √(1 − β₂ᵗ)
    float epsilon;          ///< ε
    float negativeStepSize; ///< −η / (1 − β₁ᵗ)
} bnn_adam_coefficients;

/// One Adam step over `n` elements, as PyTorch's single-tensor Adam computes it in `Float`:
/// `g' = g + λ₂·θ` (when λ₂ ≠ 0); `m = m + w₁·(g' − m)` when w₁ = 1 − β₁ < 0.5, else
/// `m = g' − (g' − m)·(1 − w₁)` (torch.lerp); `v = v·β₂ + (w₂·g')·g'`;
/// `θ = θ + s·(m / (√v / r + ε))`, each operation rounded. The buffers must not overlap.
void bnn_adam_step(const float *restrict g, float *restrict m, float *restrict v, float *restrict p, size_t n,
                   const bnn_adam_coefficients *coefficients);

/// Adds `|x[i]|` into `lanes[i % 8]` (8 Doubles); pieces combine as for `bnn_lane_sum_squares`.
void bnn_lane_abs_sum(const float *restrict x, size_t n, double *restrict lanes);

#endif
