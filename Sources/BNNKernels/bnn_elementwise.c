// Memory-bound element-wise passes written as branch-free loops the C compiler vectorises (the
// equivalent Swift loops compile to a data-dependent branch per element). Every operand is loaded
// unconditionally and the buffers do not overlap, so the selects become vector compares and masks.
#include "bnn_elementwise.h"

void bnn_clamp(const float *restrict x, float *restrict y, size_t n, float lo, float hi) {
    for (size_t i = 0; i < n; i++) {
        const float v = x[i];
        const float low = v < lo ? lo : v;
        y[i] = low > hi ? hi : low;
    }
}

void bnn_clamp_backward(const float *restrict x, const float *restrict dy, float *restrict dx, size_t n, float lo,
                        float hi) {
    for (size_t i = 0; i < n; i++) {
        const float v = x[i];
        const float g = dy[i];
        dx[i] = ((v > lo) & (v < hi)) ? g : 0.0f;
    }
}
