// Memory-bound element-wise passes written as branch-free loops the C compiler vectorises (the
// equivalent Swift loops compile to a data-dependent branch per element).
#include "bnn_elementwise.h"

void bnn_clamp(const float *x, float *y, size_t n, float lo, float hi) {
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        v = v < lo ? lo : v;
        y[i] = v > hi ? hi : v;
    }
}

void bnn_clamp_backward(const float *x, const float *dy, float *dx, size_t n, float lo, float hi) {
    for (size_t i = 0; i < n; i++) {
        dx[i] = (x[i] > lo) & (x[i] < hi) ? dy[i] : 0.0f;
    }
}
