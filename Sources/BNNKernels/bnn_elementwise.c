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

void bnn_clamp_masked(const float *restrict x, float *restrict y, uint64_t *restrict mask, size_t n, float lo,
                      float hi) {
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
    for (size_t start = 0; start < n; start += 64) {
        const size_t count = n - start < 64 ? n - start : 64;
        const uint64_t word = mask[start / 64];
        for (size_t j = 0; j < count; j++) {
            const float g = dy[start + j];
            dx[start + j] = ((word >> j) & 1) ? g : 0.0f;
        }
    }
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
