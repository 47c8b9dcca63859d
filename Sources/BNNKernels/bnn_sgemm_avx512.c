// AVX-512F micro-kernel: a 12×32 tile of C in 24 zmm accumulators over two packed B panels; per K
// step two B vectors are loaded and each of the twelve A rows is broadcast once (24 FMAs per
// 14 loads). Edge tiles of at most 4 or 8 rows run a shorter copy of the loop. Zen 4/5 and recent
// Intel cores run 512-bit FMAs at full width or as two halves.
#include "bnn_sgemm_internal.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define BNN_AVX512 __attribute__((target("avx2,fma,avx512f")))

/// The `rows`×32 tile (`rows` ≤ 12 is a compile-time constant after inlining: the rows past it
/// vanish and the accumulators stay in registers) over `kc` steps with A step `step`, or the A
/// element offsets `offsets` when they are set (a compile-time NULL after inlining otherwise).
BNN_AVX512 static inline __attribute__((always_inline)) void
tile_x32(size_t rows, size_t kc, const float *const *a, size_t step, const int32_t *offsets, const float *b0p,
         const float *b1p, __m512 acc[12][2]) {
    const float *a0 = a[0 < rows ? 0 : 0];
    const float *a1 = a[1 < rows ? 1 : 0];
    const float *a2 = a[2 < rows ? 2 : 0];
    const float *a3 = a[3 < rows ? 3 : 0];
    const float *a4 = a[4 < rows ? 4 : 0];
    const float *a5 = a[5 < rows ? 5 : 0];
    const float *a6 = a[6 < rows ? 6 : 0];
    const float *a7 = a[7 < rows ? 7 : 0];
    const float *a8 = a[8 < rows ? 8 : 0];
    const float *a9 = a[9 < rows ? 9 : 0];
    const float *aa = a[10 < rows ? 10 : 0];
    const float *ab = a[11 < rows ? 11 : 0];
    __m512 c00 = _mm512_setzero_ps(), c01 = _mm512_setzero_ps();
    __m512 c10 = _mm512_setzero_ps(), c11 = _mm512_setzero_ps();
    __m512 c20 = _mm512_setzero_ps(), c21 = _mm512_setzero_ps();
    __m512 c30 = _mm512_setzero_ps(), c31 = _mm512_setzero_ps();
    __m512 c40 = _mm512_setzero_ps(), c41 = _mm512_setzero_ps();
    __m512 c50 = _mm512_setzero_ps(), c51 = _mm512_setzero_ps();
    __m512 c60 = _mm512_setzero_ps(), c61 = _mm512_setzero_ps();
    __m512 c70 = _mm512_setzero_ps(), c71 = _mm512_setzero_ps();
    __m512 c80 = _mm512_setzero_ps(), c81 = _mm512_setzero_ps();
    __m512 c90 = _mm512_setzero_ps(), c91 = _mm512_setzero_ps();
    __m512 ca0 = _mm512_setzero_ps(), ca1 = _mm512_setzero_ps();
    __m512 cb0 = _mm512_setzero_ps(), cb1 = _mm512_setzero_ps();
    for (size_t p = 0; p < kc; ++p) {
        __m512 b0 = _mm512_loadu_ps(b0p + p * 16), b1 = _mm512_loadu_ps(b1p + p * 16);
        size_t o = offsets ? (size_t)offsets[p] : p * step;
        __m512 x;
        if (rows > 0) {
            x = _mm512_set1_ps(a0[o]);
            c00 = _mm512_fmadd_ps(x, b0, c00);
            c01 = _mm512_fmadd_ps(x, b1, c01);
        }
        if (rows > 1) {
            x = _mm512_set1_ps(a1[o]);
            c10 = _mm512_fmadd_ps(x, b0, c10);
            c11 = _mm512_fmadd_ps(x, b1, c11);
        }
        if (rows > 2) {
            x = _mm512_set1_ps(a2[o]);
            c20 = _mm512_fmadd_ps(x, b0, c20);
            c21 = _mm512_fmadd_ps(x, b1, c21);
        }
        if (rows > 3) {
            x = _mm512_set1_ps(a3[o]);
            c30 = _mm512_fmadd_ps(x, b0, c30);
            c31 = _mm512_fmadd_ps(x, b1, c31);
        }
        if (rows > 4) {
            x = _mm512_set1_ps(a4[o]);
            c40 = _mm512_fmadd_ps(x, b0, c40);
            c41 = _mm512_fmadd_ps(x, b1, c41);
        }
        if (rows > 5) {
            x = _mm512_set1_ps(a5[o]);
            c50 = _mm512_fmadd_ps(x, b0, c50);
            c51 = _mm512_fmadd_ps(x, b1, c51);
        }
        if (rows > 6) {
            x = _mm512_set1_ps(a6[o]);
            c60 = _mm512_fmadd_ps(x, b0, c60);
            c61 = _mm512_fmadd_ps(x, b1, c61);
        }
        if (rows > 7) {
            x = _mm512_set1_ps(a7[o]);
            c70 = _mm512_fmadd_ps(x, b0, c70);
            c71 = _mm512_fmadd_ps(x, b1, c71);
        }
        if (rows > 8) {
            x = _mm512_set1_ps(a8[o]);
            c80 = _mm512_fmadd_ps(x, b0, c80);
            c81 = _mm512_fmadd_ps(x, b1, c81);
        }
        if (rows > 9) {
            x = _mm512_set1_ps(a9[o]);
            c90 = _mm512_fmadd_ps(x, b0, c90);
            c91 = _mm512_fmadd_ps(x, b1, c91);
        }
        if (rows > 10) {
            x = _mm512_set1_ps(aa[o]);
            ca0 = _mm512_fmadd_ps(x, b0, ca0);
            ca1 = _mm512_fmadd_ps(x, b1, ca1);
        }
        if (rows > 11) {
            x = _mm512_set1_ps(ab[o]);
            cb0 = _mm512_fmadd_ps(x, b0, cb0);
            cb1 = _mm512_fmadd_ps(x, b1, cb1);
        }
    }
    acc[0][0] = c00; acc[0][1] = c01;
    acc[1][0] = c10; acc[1][1] = c11;
    acc[2][0] = c20; acc[2][1] = c21;
    acc[3][0] = c30; acc[3][1] = c31;
    acc[4][0] = c40; acc[4][1] = c41;
    acc[5][0] = c50; acc[5][1] = c51;
    acc[6][0] = c60; acc[6][1] = c61;
    acc[7][0] = c70; acc[7][1] = c71;
    acc[8][0] = c80; acc[8][1] = c81;
    acc[9][0] = c90; acc[9][1] = c91;
    acc[10][0] = ca0; acc[10][1] = ca1;
    acc[11][0] = cb0; acc[11][1] = cb1;
}

/// Runs the tile with the fewest rows (4, 8 or 12) covering `mr`, for an offset table, a unit or a
/// general A step.
BNN_AVX512 static void tile_rows(size_t mr, size_t kc, const float *const *a, size_t step, const int32_t *offsets,
                                 const float *b0p, const float *b1p, __m512 acc[12][2]) {
    if (offsets) {
        // At most 8 rows per pass: with a table the compiler hoists every row's broadcast above the
        // FMAs, and 12 rows would then need more than 32 registers.
        if (mr <= 4) {
            tile_x32(4, kc, a, 0, offsets, b0p, b1p, acc);
        } else {
            tile_x32(8, kc, a, 0, offsets, b0p, b1p, acc);
            if (mr > 8) {
                __m512 rest[12][2];
                tile_x32(4, kc, a + 8, 0, offsets, b0p, b1p, rest);
                for (int r = 0; r < 4; r++) acc[8 + r][0] = rest[r][0], acc[8 + r][1] = rest[r][1];
            }
        }
    } else if (step == 1) {
        if (mr <= 4) tile_x32(4, kc, a, 1, NULL, b0p, b1p, acc);
        else if (mr <= 8) tile_x32(8, kc, a, 1, NULL, b0p, b1p, acc);
        else tile_x32(12, kc, a, 1, NULL, b0p, b1p, acc);
    } else {
        if (mr <= 4) tile_x32(4, kc, a, step, NULL, b0p, b1p, acc);
        else if (mr <= 8) tile_x32(8, kc, a, step, NULL, b0p, b1p, acc);
        else tile_x32(12, kc, a, step, NULL, b0p, b1p, acc);
    }
}

BNN_AVX512 void bnn_sgemm_microkernel_avx512(size_t kc, const float *const *a, size_t a_step,
                                             const int32_t *a_offsets, const float *b, size_t b_panel_stride,
                                             float *c, size_t ldc, size_t mr, size_t nr, int accumulate) {
    // With one panel left the second stream re-reads the first; its results are not stored.
    const float *b1 = nr > BNN_SGEMM_NR ? b + b_panel_stride : b;
    __m512 acc[12][2];
    tile_rows(mr, kc, a, a_step, a_offsets, b, b1, acc);
    if (nr == 2 * BNN_SGEMM_NR) {
        for (size_t r = 0; r < mr; ++r) {
            float *cr = c + r * ldc;
            __m512 v0 = acc[r][0], v1 = acc[r][1];
            if (accumulate) {
                v0 = _mm512_add_ps(_mm512_loadu_ps(cr), v0);
                v1 = _mm512_add_ps(_mm512_loadu_ps(cr + 16), v1);
            }
            _mm512_storeu_ps(cr, v0);
            _mm512_storeu_ps(cr + 16, v1);
        }
    } else {
        // Masked stores of the first `nr` columns.
        __mmask16 m0 = (__mmask16)(nr >= 16 ? 0xFFFF : (1u << nr) - 1);
        __mmask16 m1 = (__mmask16)(nr <= 16 ? 0 : (1u << (nr - 16)) - 1);
        for (size_t r = 0; r < mr; ++r) {
            float *cr = c + r * ldc;
            __m512 v0 = acc[r][0], v1 = acc[r][1];
            if (accumulate) {
                v0 = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, cr), v0);
                v1 = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, cr + 16), v1);
            }
            _mm512_mask_storeu_ps(cr, m0, v0);
            _mm512_mask_storeu_ps(cr + 16, m1, v1);
        }
    }
}
#endif
