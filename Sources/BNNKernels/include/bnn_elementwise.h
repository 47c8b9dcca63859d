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

/// One window position of a max pool: for `i < c`, where `x[i] > out[i]` or `x[i]` is NaN (the first
/// maximum wins ties; NaN propagates), `out[i] = x[i]` and, when `argmax` is not NULL,
/// `argmax[i] = index + i`. The buffers must not overlap.
void bnn_max_pool_update(const float *restrict x, int32_t index, float *restrict out, int32_t *restrict argmax,
                         size_t c);

#endif
