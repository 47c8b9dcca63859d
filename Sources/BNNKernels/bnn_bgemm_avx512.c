// AVX512-BF16 micro-kernel: a 12×32 tile of C in 24 zmm accumulators over two packed bfloat16 B
// panels (one panel, half the products, for 16 columns or fewer); per pair of K steps two B vectors
// (16 columns × 2 steps each) are loaded and each of the twelve A rows (each through its own pointer, at a pair step or through a table of pair offsets)
// broadcasts its pair once into `vdpbf16ps`, which multiplies the pairs and adds both
// products to the single-precision accumulators (24 two-step multiply-adds per 14 loads, twice the
// work of an FMA at the same issue rate on Zen 4/5). Edge tiles of at most 4 or 8 rows run a
// shorter copy of the loop.
#include "bnn_bgemm_internal.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <stdatomic.h>
#include <string.h>

#define BNN_AVX512_BF16 __attribute__((target("avx2,fma,avx512f,avx512bw,avx512bf16")))

int bnn_bgemm_cpu_has_avx512_bf16(void) {
    // Detected once: the rounding and pairing loops ask on every call.
    static _Atomic int detected = -1;
    int value = atomic_load_explicit(&detected, memory_order_relaxed);
    if (value < 0) {
        __builtin_cpu_init();
        value = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bf16");
        atomic_store_explicit(&detected, value, memory_order_relaxed);
    }
    return value;
}

/// The `rows`×(16·`panels`) tile (`rows` ≤ 12 and `panels` ≤ 2 compile-time constants after
/// inlining, so the accumulators stay in registers) over `pairs` pairs of K steps with pair step
/// `step`, or the pair offsets `offsets` when they are set (a compile-time NULL after inlining
/// otherwise); rows past `mr` repeat row 0 and are not stored. One panel leaves `acc[r][1]` zero.
BNN_AVX512_BF16 static inline __attribute__((always_inline)) void
tile(size_t rows, size_t panels, size_t mr, size_t pairs, const uint32_t *const *a, size_t step,
     const int32_t *offsets, const uint16_t *b0p, const uint16_t *b1p, __m512 acc[12][2]) {
    const uint32_t *row[12];
    __m512 c[12][2];
#pragma clang loop unroll(full)
    for (size_t r = 0; r < 12; ++r) {
        row[r] = a[r < rows && r < mr ? r : 0];
        c[r][0] = c[r][1] = _mm512_setzero_ps();
    }
    for (size_t p = 0; p < pairs; ++p) {
        __m512bh b0 = (__m512bh)_mm512_loadu_si512(b0p + p * 32);
        __m512bh b1 = panels == 2 ? (__m512bh)_mm512_loadu_si512(b1p + p * 32) : b0;
        size_t o = offsets ? (size_t)offsets[p] : p * step;
#pragma clang loop unroll(full)
        for (size_t r = 0; r < 12; ++r) {
            if (r < rows) {
                __m512bh x = (__m512bh)_mm512_set1_epi32((int32_t)row[r][o]);
                c[r][0] = _mm512_dpbf16_ps(c[r][0], x, b0);
                if (panels == 2) c[r][1] = _mm512_dpbf16_ps(c[r][1], x, b1);
            }
        }
    }
#pragma clang loop unroll(full)
    for (size_t r = 0; r < 12; ++r) acc[r][0] = c[r][0], acc[r][1] = c[r][1];
}

/// Runs the tile with the fewest rows (4, 8 or 12) covering `mr` for an offset table, a unit or a
/// general pair step, over `panels` (1 or 2) column panels. With a table two panels take at most
/// 8 rows (`table_mr`): the compiler hoists every row's broadcast above the products, and 12 rows
/// would then need more than 32 registers; one panel takes 12 (`table_mr_narrow`).
BNN_AVX512_BF16 static inline __attribute__((always_inline)) void
tile_rows_of(size_t panels, size_t mr, size_t pairs, const uint32_t *const *a, size_t step, const int32_t *offsets,
             const uint16_t *b0p, const uint16_t *b1p, __m512 acc[12][2]) {
    if (offsets) {
        if (mr <= 4) tile(4, panels, mr, pairs, a, 0, offsets, b0p, b1p, acc);
        else if (mr <= 8 || panels == 2) tile(8, panels, mr, pairs, a, 0, offsets, b0p, b1p, acc);
        else tile(12, 1, mr, pairs, a, 0, offsets, b0p, b1p, acc);
    } else if (step == 1) {
        if (mr <= 4) tile(4, panels, mr, pairs, a, 1, NULL, b0p, b1p, acc);
        else if (mr <= 8) tile(8, panels, mr, pairs, a, 1, NULL, b0p, b1p, acc);
        else tile(12, panels, mr, pairs, a, 1, NULL, b0p, b1p, acc);
    } else {
        if (mr <= 4) tile(4, panels, mr, pairs, a, step, NULL, b0p, b1p, acc);
        else if (mr <= 8) tile(8, panels, mr, pairs, a, step, NULL, b0p, b1p, acc);
        else tile(12, panels, mr, pairs, a, step, NULL, b0p, b1p, acc);
    }
}

/// `tile_rows_of` for 32 columns (two panels) or, when `nr` ≤ 16, one panel: half the products.
BNN_AVX512_BF16 static void tile_rows(size_t mr, size_t nr, size_t pairs, const uint32_t *const *a, size_t step,
                                      const int32_t *offsets, const uint16_t *b0p, const uint16_t *b1p,
                                      __m512 acc[12][2]) {
    if (nr > BNN_BGEMM_NR) tile_rows_of(2, mr, pairs, a, step, offsets, b0p, b1p, acc);
    else tile_rows_of(1, mr, pairs, a, step, offsets, b0p, b1p, acc);
}

BNN_AVX512_BF16 void bnn_bgemm_microkernel_avx512(size_t pairs, const uint32_t *const *a, size_t a_step,
                                                  const int32_t *a_offsets, const uint16_t *b, size_t b_panel_stride,
                                                  float *c, size_t ldc, size_t mr, size_t nr, int accumulate) {
    // With one panel left (16 columns or fewer) only the first stream runs.
    const uint16_t *b1 = nr > BNN_BGEMM_NR ? b + b_panel_stride : b;
    __m512 acc[12][2];
    tile_rows(mr, nr, pairs, a, a_step, a_offsets, b, b1, acc);
    __mmask16 m0 = (__mmask16)(nr >= 16 ? 0xFFFF : (1u << nr) - 1);
    __mmask16 m1 = (__mmask16)(nr <= 16 ? 0 : nr >= 32 ? 0xFFFF : (1u << (nr - 16)) - 1);
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

// The rounding loops compiled for 512-bit vectors: the portable integer rounding of
// `bnn_bgemm_bf16_bits`, so the results are the same bit for bit.
BNN_AVX512_BF16 void bnn_bf16_round_avx512(const float *source, uint16_t *destination, size_t count) {
    for (size_t i = 0; i < count; ++i) destination[i] = (uint16_t)bnn_bgemm_bf16_bits(bnn_bgemm_float_bits(source[i]));
}

BNN_AVX512_BF16 void bnn_bgemm_pair_run_avx512(const float *low, const float *high, size_t count, uint32_t *dst) {
    for (size_t i = 0; i < count; ++i) dst[i] = bnn_bgemm_pair(low[i], high[i]);
}

BNN_AVX512_BF16 void bnn_bgemm_pack_b_avx512(int trans_b, size_t n, size_t k, const float *b, size_t ldb,
                                             size_t panel0, size_t panel1, uint16_t *packed) {
    bnn_bgemm_pack_b_loop(trans_b, n, k, b, ldb, panel0, panel1, packed);
}

BNN_AVX512_BF16 void bnn_bgemm_pair_signs_run_avx512(const uint64_t *low, const uint64_t *high, size_t words_per_pixel,
                                                     size_t pixels, size_t channels, uint32_t *dst) {
    // bfloat16 +1 in both halves; a set sign bit sets the half's sign bit (−1).
    const __m512i one = _mm512_set1_epi32(0x3F803F80), low_sign = _mm512_set1_epi32(0x8000),
                  high_sign = _mm512_set1_epi32((int32_t)0x80000000u);
    for (size_t x = 0; x < pixels; ++x, low += words_per_pixel, high += words_per_pixel, dst += channels) {
        for (size_t c = 0; c < channels; c += 16) {
            __mmask16 l = (__mmask16)(low[c / 64] >> (c % 64)), h = (__mmask16)(high[c / 64] >> (c % 64));
            __m512i v = _mm512_mask_or_epi32(one, l, one, low_sign);
            _mm512_storeu_si512(dst + c, _mm512_mask_or_epi32(v, h, v, high_sign));
        }
    }
}

BNN_AVX512_BF16 static double dot512(int64_t iterations, float *sink) {
    __m512 acc[12];
    for (int i = 0; i < 12; i++) acc[i] = _mm512_set1_ps((float)i * 0.001f);
    const __m512bh a = (__m512bh)_mm512_set1_epi32(0x3f7f3f7f), b = (__m512bh)_mm512_set1_epi32(0x33d633d6);
    for (int64_t it = 0; it < iterations; it++) {
        for (int i = 0; i < 12; i++) acc[i] = _mm512_dpbf16_ps(acc[i], a, b);
        __asm__ volatile("" : "+v"(acc[0]), "+v"(acc[1]), "+v"(acc[2]), "+v"(acc[3]), "+v"(acc[4]), "+v"(acc[5]),
                         "+v"(acc[6]), "+v"(acc[7]), "+v"(acc[8]), "+v"(acc[9]), "+v"(acc[10]), "+v"(acc[11]));
    }
    __m512 total = acc[0];
    for (int i = 1; i < 12; i++) total = _mm512_add_ps(total, acc[i]);
    *sink = _mm512_reduce_add_ps(total);
    return 768.0 * (double)iterations; // 12 instructions × 16 lanes × 2 multiply-adds × 2 operations
}

double bnn_probe_bf16_dot512(int64_t iterations, float *sink) {
    if (!bnn_bgemm_cpu_has_avx512_bf16()) {
        *sink = 0;
        return 0;
    }
    return dot512(iterations, sink);
}
#else
double bnn_probe_bf16_dot512(int64_t iterations, float *sink) {
    (void)iterations;
    *sink = 0;
    return 0;
}
#endif
