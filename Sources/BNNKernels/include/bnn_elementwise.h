#ifndef BNN_ELEMENTWISE_H
#define BNN_ELEMENTWISE_H

#include <stddef.h>

/// `y[i] = min(max(x[i], lo), hi)` for `i < n`; `x` and `y` must not overlap.
void bnn_clamp(const float *restrict x, float *restrict y, size_t n, float lo, float hi);

/// `dx[i] = dy[i]` where `lo < x[i] < hi`, else 0, for `i < n` (the HardTanh backward pass); the
/// buffers must not overlap.
void bnn_clamp_backward(const float *restrict x, const float *restrict dy, float *restrict dx, size_t n, float lo, float hi);

#endif
