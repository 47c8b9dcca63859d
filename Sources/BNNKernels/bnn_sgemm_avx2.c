// AVX2 + FMA micro-kernel: a 6×16 tile of C in twelve ymm accumulators; per K step two packed B
// vectors are loaded and each of the six A rows is broadcast once (12 FMAs per 8 loads).
#include "bnn_sgemm_internal.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

__attribute__((target("avx2,fma")))
void bnn_sgemm_microkernel_avx2(size_t kc, const float *const *a, size_t a_step, const int32_t *a_offsets,
                                const float *b, size_t b_panel_stride, float *c, size_t ldc, size_t mr, size_t nr,
                                int accumulate) {
    (void)b_panel_stride; // one panel: nr ≤ 16
    const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3], *a4 = a[4], *a5 = a[5];
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
#define BNN_STEP(p)                                                                                \
    do {                                                                                           \
        __m256 b0 = _mm256_loadu_ps(b + (p) * 16), b1 = _mm256_loadu_ps(b + (p) * 16 + 8);         \
        __m256 x = _mm256_broadcast_ss(a0 + BNN_AT(p));                                            \
        c00 = _mm256_fmadd_ps(x, b0, c00); c01 = _mm256_fmadd_ps(x, b1, c01);                      \
        x = _mm256_broadcast_ss(a1 + BNN_AT(p));                                                   \
        c10 = _mm256_fmadd_ps(x, b0, c10); c11 = _mm256_fmadd_ps(x, b1, c11);                      \
        x = _mm256_broadcast_ss(a2 + BNN_AT(p));                                                   \
        c20 = _mm256_fmadd_ps(x, b0, c20); c21 = _mm256_fmadd_ps(x, b1, c21);                      \
        x = _mm256_broadcast_ss(a3 + BNN_AT(p));                                                   \
        c30 = _mm256_fmadd_ps(x, b0, c30); c31 = _mm256_fmadd_ps(x, b1, c31);                      \
        x = _mm256_broadcast_ss(a4 + BNN_AT(p));                                                   \
        c40 = _mm256_fmadd_ps(x, b0, c40); c41 = _mm256_fmadd_ps(x, b1, c41);                      \
        x = _mm256_broadcast_ss(a5 + BNN_AT(p));                                                   \
        c50 = _mm256_fmadd_ps(x, b0, c50); c51 = _mm256_fmadd_ps(x, b1, c51);                      \
    } while (0)
#define BNN_LOOP                                                                                   \
    do {                                                                                           \
        size_t p = 0;                                                                              \
        for (; p + 4 <= kc; p += 4) {                                                              \
            BNN_STEP(p);                                                                           \
            BNN_STEP(p + 1);                                                                       \
            BNN_STEP(p + 2);                                                                       \
            BNN_STEP(p + 3);                                                                       \
        }                                                                                          \
        for (; p < kc; ++p) BNN_STEP(p);                                                           \
    } while (0)
    // Offset tables, rows contiguous along K (the common case) and strided rows each get their own
    // copy of the loop.
    if (a_offsets) {
#define BNN_AT(p) ((size_t)a_offsets[p])
        BNN_LOOP;
#undef BNN_AT
    } else if (a_step == 1) {
#define BNN_AT(p) (p)
        BNN_LOOP;
#undef BNN_AT
    } else {
#define BNN_AT(p) ((p) * a_step)
        BNN_LOOP;
#undef BNN_AT
    }
#undef BNN_LOOP
#undef BNN_STEP
    __m256 acc[BNN_SGEMM_MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
    if (nr == BNN_SGEMM_NR) {
        for (size_t r = 0; r < mr; ++r) {
            float *cr = c + r * ldc;
            __m256 v0 = acc[r][0], v1 = acc[r][1];
            if (accumulate) {
                v0 = _mm256_add_ps(_mm256_loadu_ps(cr), v0);
                v1 = _mm256_add_ps(_mm256_loadu_ps(cr + 8), v1);
            }
            _mm256_storeu_ps(cr, v0);
            _mm256_storeu_ps(cr + 8, v1);
        }
    } else {
        float tile[BNN_SGEMM_NR];
        for (size_t r = 0; r < mr; ++r) {
            float *cr = c + r * ldc;
            _mm256_storeu_ps(tile, acc[r][0]);
            _mm256_storeu_ps(tile + 8, acc[r][1]);
            for (size_t j = 0; j < nr; ++j) cr[j] = accumulate ? cr[j] + tile[j] : tile[j];
        }
    }
}

/// Transposes the 8×8 block at `src` (row stride `lds`) into `dst` (row stride `ldd`).
__attribute__((target("avx2,fma")))
static inline void transpose_8x8(const float *src, size_t lds, float *dst, size_t ldd) {
    __m256 r0 = _mm256_loadu_ps(src), r1 = _mm256_loadu_ps(src + lds);
    __m256 r2 = _mm256_loadu_ps(src + 2 * lds), r3 = _mm256_loadu_ps(src + 3 * lds);
    __m256 r4 = _mm256_loadu_ps(src + 4 * lds), r5 = _mm256_loadu_ps(src + 5 * lds);
    __m256 r6 = _mm256_loadu_ps(src + 6 * lds), r7 = _mm256_loadu_ps(src + 7 * lds);
    __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
    __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
    __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
    __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    _mm256_storeu_ps(dst, _mm256_permute2f128_ps(u0, u4, 0x20));
    _mm256_storeu_ps(dst + ldd, _mm256_permute2f128_ps(u1, u5, 0x20));
    _mm256_storeu_ps(dst + 2 * ldd, _mm256_permute2f128_ps(u2, u6, 0x20));
    _mm256_storeu_ps(dst + 3 * ldd, _mm256_permute2f128_ps(u3, u7, 0x20));
    _mm256_storeu_ps(dst + 4 * ldd, _mm256_permute2f128_ps(u0, u4, 0x31));
    _mm256_storeu_ps(dst + 5 * ldd, _mm256_permute2f128_ps(u1, u5, 0x31));
    _mm256_storeu_ps(dst + 6 * ldd, _mm256_permute2f128_ps(u2, u6, 0x31));
    _mm256_storeu_ps(dst + 7 * ldd, _mm256_permute2f128_ps(u3, u7, 0x31));
}

__attribute__((target("avx2,fma")))
size_t bnn_sgemm_pack_panel_transposed_avx2(size_t k, const float *rows, size_t ldb, float *panel) {
    size_t p = 0;
    for (; p + 8 <= k; p += 8) {
        transpose_8x8(rows + p, ldb, panel + p * BNN_SGEMM_NR, BNN_SGEMM_NR);
        transpose_8x8(rows + 8 * ldb + p, ldb, panel + p * BNN_SGEMM_NR + 8, BNN_SGEMM_NR);
    }
    return p;
}
#endif
