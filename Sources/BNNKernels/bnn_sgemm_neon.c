// arm64 NEON micro-kernel: a 6×16 tile of C in 24 q-register accumulators; per K step four packed
// B vectors are loaded and each A row is broadcast with a load-and-duplicate.
#include "bnn_sgemm_internal.h"

#if defined(__aarch64__)
#include <arm_neon.h>

void bnn_sgemm_microkernel_neon(size_t kc, const float *const *a, size_t a_step, const int32_t *a_offsets,
                                const float *b, size_t b_panel_stride, float *c, size_t ldc, size_t mr, size_t nr,
                                int accumulate) {
    (void)b_panel_stride; // one panel: nr ≤ 16
    float32x4_t acc[BNN_SGEMM_MR][4];
    for (size_t r = 0; r < BNN_SGEMM_MR; ++r) {
        for (size_t q = 0; q < 4; ++q) acc[r][q] = vdupq_n_f32(0);
    }
    for (size_t p = 0; p < kc; ++p) {
        const float *bp = b + p * BNN_SGEMM_NR;
        float32x4_t b0 = vld1q_f32(bp), b1 = vld1q_f32(bp + 4), b2 = vld1q_f32(bp + 8), b3 = vld1q_f32(bp + 12);
        for (size_t r = 0; r < BNN_SGEMM_MR; ++r) {
            float32x4_t x = vld1q_dup_f32(a[r] + (a_offsets ? (size_t)a_offsets[p] : p * a_step));
            acc[r][0] = vfmaq_f32(acc[r][0], x, b0);
            acc[r][1] = vfmaq_f32(acc[r][1], x, b1);
            acc[r][2] = vfmaq_f32(acc[r][2], x, b2);
            acc[r][3] = vfmaq_f32(acc[r][3], x, b3);
        }
    }
    float tile[BNN_SGEMM_NR];
    for (size_t r = 0; r < mr; ++r) {
        float *cr = c + r * ldc;
        for (size_t q = 0; q < 4; ++q) vst1q_f32(tile + 4 * q, acc[r][q]);
        for (size_t j = 0; j < nr; ++j) cr[j] = accumulate ? cr[j] + tile[j] : tile[j];
    }
}
#endif
