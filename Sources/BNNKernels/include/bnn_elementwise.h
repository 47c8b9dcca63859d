#ifndef BNN_ELEMENTWISE_H
#define BNN_ELEMENTWISE_H

#include <stddef.h>

/// `y[i] = min(max(x[i], lo), hi)` for `i < n`; a NaN input stays NaN.
void bnn_clamp(const float *x, float *y, size_t n, float lo, float hi);

/// `dx[i] = dy[i]` where `lo < x[i] < hi`, else 0, for `i < n` (the HardTanh backward pass).
void bnn_clamp_backward(const float *x, const float *dy, float *dx, size_t n, float lo, float hi);

#endif
