// NEON BF16 micro-kernel (Armv8.6 BF16 extension, e.g. Graviton 3, Apple M2): a 6×16 tile of C in
// 24 accumulators over one packed bfloat16 B panel; per pair of K steps four B vectors (4 columns
// × 2 steps each) are loaded, the six rows' pairs (each row through its own pointer) are gathered into two vectors, and `BFDOT` by
// lane adds each row's two products to its accumulators. Compiled with a target attribute and
// chosen only when the CPU reports BF16 (HWCAP2_BF16 on Linux, FEAT_BF16 on Apple systems).
#include "bnn_bgemm_internal.h"

#if defined(__aarch64__)
#include <arm_neon.h>
#include <string.h>
#if defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP2_BF16
#define HWCAP2_BF16 (1UL << 14)
#endif
#elif defined(__APPLE__)
#include <sys/sysctl.h>
#endif

int bnn_bgemm_cpu_has_neon_bf16(void) {
#if defined(__linux__)
    return (getauxval(AT_HWCAP2) & HWCAP2_BF16) != 0;
#elif defined(__APPLE__)
    int value = 0;
    size_t size = sizeof value;
    return sysctlbyname("hw.optional.arm.FEAT_BF16", &value, &size, NULL, 0) == 0 && value != 0;
#else
    return 0;
#endif
}

#define BNN_NEON_BF16 __attribute__((target("bf16")))

/// The pairs of rows `first`, `first + 1`, … (at most four, the rest repeat row `first`) at pair
/// offset `offset`.
BNN_NEON_BF16 static inline bfloat16x8_t row_pairs(const uint32_t *const *a, size_t first, size_t count,
                                                   size_t offset) {
    uint32_t lanes[4];
    for (size_t i = 0; i < 4; ++i) lanes[i] = a[first + (i < count ? i : 0)][offset];
    return vreinterpretq_bf16_u32(vld1q_u32(lanes));
}

BNN_NEON_BF16 void bnn_bgemm_microkernel_neon(size_t pairs, const uint32_t *const *a, size_t a_step,
                                              const int32_t *a_offsets, const uint16_t *b, size_t b_panel_stride,
                                              float *c, size_t ldc, size_t mr, size_t nr, int accumulate) {
    (void)b_panel_stride; // one panel: nr ≤ 16
    float32x4_t acc[6][4];
    for (size_t r = 0; r < 6; ++r) {
        for (size_t j = 0; j < 4; ++j) acc[r][j] = vdupq_n_f32(0);
    }
    const size_t low = mr < 4 ? mr : 4, high = mr > 4 ? mr - 4 : 0;
    for (size_t p = 0; p < pairs; ++p) {
        const bfloat16_t *bp = (const bfloat16_t *)(b + p * 2 * BNN_BGEMM_NR);
        bfloat16x8_t bv[4] = {vld1q_bf16(bp), vld1q_bf16(bp + 8), vld1q_bf16(bp + 16), vld1q_bf16(bp + 24)};
        size_t offset = a_offsets ? (size_t)a_offsets[p] : p * a_step;
        bfloat16x8_t x0 = row_pairs(a, 0, low, offset);
        bfloat16x8_t x1 = high ? row_pairs(a, 4, high, offset) : x0;
        for (size_t j = 0; j < 4; ++j) {
            acc[0][j] = vbfdotq_laneq_f32(acc[0][j], bv[j], x0, 0);
            acc[1][j] = vbfdotq_laneq_f32(acc[1][j], bv[j], x0, 1);
            acc[2][j] = vbfdotq_laneq_f32(acc[2][j], bv[j], x0, 2);
            acc[3][j] = vbfdotq_laneq_f32(acc[3][j], bv[j], x0, 3);
            acc[4][j] = vbfdotq_laneq_f32(acc[4][j], bv[j], x1, 0);
            acc[5][j] = vbfdotq_laneq_f32(acc[5][j], bv[j], x1, 1);
        }
    }
    for (size_t r = 0; r < mr; ++r) {
        float *cr = c + r * ldc;
        float lanes[16];
        for (size_t j = 0; j < 4; ++j) vst1q_f32(lanes + 4 * j, acc[r][j]);
        for (size_t j = 0; j < nr; ++j) cr[j] = accumulate ? cr[j] + lanes[j] : lanes[j];
    }
}
#endif
