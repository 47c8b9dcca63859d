// Peak probes for the benchmark: the best a core can do on float FMAs and on XOR-popcounts, in
// register-only loops free of memory traffic, to express every kernel as a percentage of its kind.
#include "bnn_binary.h"

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx2,fma"))) double bnn_probe_fma(int64_t iterations, float *sink) {
    __m256 acc[12];
    for (int i = 0; i < 12; i++) acc[i] = _mm256_set1_ps((float)i * 0.001f);
    const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    for (int64_t it = 0; it < iterations; it++) {
        for (int i = 0; i < 12; i++) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
        __asm__ volatile("" : "+x"(acc[0]), "+x"(acc[1]), "+x"(acc[2]), "+x"(acc[3]), "+x"(acc[4]), "+x"(acc[5]),
                         "+x"(acc[6]), "+x"(acc[7]), "+x"(acc[8]), "+x"(acc[9]), "+x"(acc[10]), "+x"(acc[11]));
    }
    __m256 total = acc[0];
    for (int i = 1; i < 12; i++) total = _mm256_add_ps(total, acc[i]);
    float lanes[8];
    _mm256_storeu_ps(lanes, total);
    *sink = lanes[0] + lanes[1] + lanes[2] + lanes[3] + lanes[4] + lanes[5] + lanes[6] + lanes[7];
    return 192.0 * (double)iterations;
}

// The popcount probes XOR registers that an empty asm statement marks as changed on every round:
// the compiler cannot hoist the XOR-popcount out of the loop, and the only loop-carried dependency
// is the accumulating add, so the probes measure throughput, as the kernels need it.

__attribute__((target("avx2,popcnt"))) double bnn_probe_popcount_vector(int64_t iterations, uint64_t *sink) {
    const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
                                         0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
    const __m256i low = _mm256_set1_epi8(0x0f);
    const __m256i w = _mm256_set1_epi64x(0x5a5a5a5a12345678LL);
    __m256i x[4], acc[8];
    for (int i = 0; i < 4; i++) x[i] = _mm256_set1_epi64x((i + 1) * 0x0123456789abcdefLL);
    for (int i = 0; i < 8; i++) acc[i] = _mm256_setzero_si256();
    for (int64_t it = 0; it < iterations; it++) {
        __asm__ volatile("" : "+x"(x[0]), "+x"(x[1]), "+x"(x[2]), "+x"(x[3]));
        for (int i = 0; i < 8; i++) {
            const __m256i v = _mm256_xor_si256(x[i % 4], i < 4 ? w : lut);
            const __m256i lo = _mm256_and_si256(v, low);
            const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low);
            acc[i] = _mm256_add_epi8(acc[i], _mm256_add_epi8(_mm256_shuffle_epi8(lut, lo), _mm256_shuffle_epi8(lut, hi)));
        }
    }
    __m256i total = _mm256_setzero_si256();
    for (int i = 0; i < 8; i++) total = _mm256_add_epi64(total, _mm256_sad_epu8(acc[i], _mm256_setzero_si256()));
    *sink = (uint64_t)_mm256_extract_epi64(total, 0) + (uint64_t)_mm256_extract_epi64(total, 3);
    return 2048.0 * (double)iterations;
}

__attribute__((target("avx2,fma,avx512f"))) static double fma512(int64_t iterations, float *sink) {
    __m512 acc[12];
    for (int i = 0; i < 12; i++) acc[i] = _mm512_set1_ps((float)i * 0.001f);
    const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    for (int64_t it = 0; it < iterations; it++) {
        for (int i = 0; i < 12; i++) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
        __asm__ volatile("" : "+v"(acc[0]), "+v"(acc[1]), "+v"(acc[2]), "+v"(acc[3]), "+v"(acc[4]), "+v"(acc[5]),
                         "+v"(acc[6]), "+v"(acc[7]), "+v"(acc[8]), "+v"(acc[9]), "+v"(acc[10]), "+v"(acc[11]));
    }
    __m512 total = acc[0];
    for (int i = 1; i < 12; i++) total = _mm512_add_ps(total, acc[i]);
    *sink = _mm512_reduce_add_ps(total);
    return 384.0 * (double)iterations;
}

double bnn_probe_fma512(int64_t iterations, float *sink) {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f")) {
        *sink = 0;
        return 0;
    }
    return fma512(iterations, sink);
}

__attribute__((target("avx2,popcnt,avx512f,avx512vpopcntdq"))) static double popcount512(int64_t iterations,
                                                                                         uint64_t *sink) {
    const __m512i w0 = _mm512_set1_epi64(0x5a5a5a5a12345678LL), w1 = _mm512_set1_epi64(0x0f0f0f0f33333333LL);
    __m512i x[6], acc[12];
    for (int i = 0; i < 6; i++) x[i] = _mm512_set1_epi64((i + 1) * 0x0123456789abcdefLL);
    for (int i = 0; i < 12; i++) acc[i] = _mm512_setzero_si512();
    for (int64_t it = 0; it < iterations; it++) {
        __asm__ volatile("" : "+v"(x[0]), "+v"(x[1]), "+v"(x[2]), "+v"(x[3]), "+v"(x[4]), "+v"(x[5]));
        for (int i = 0; i < 12; i++) {
            acc[i] = _mm512_add_epi64(acc[i], _mm512_popcnt_epi64(_mm512_xor_si512(x[i % 6], i < 6 ? w0 : w1)));
        }
    }
    __m512i total = acc[0];
    for (int i = 1; i < 12; i++) total = _mm512_add_epi64(total, acc[i]);
    *sink = (uint64_t)_mm512_reduce_add_epi64(total);
    return 6144.0 * (double)iterations;
}

double bnn_probe_popcount512(int64_t iterations, uint64_t *sink) {
    if (!bnn_binary_avx512_detected()) {
        *sink = 0;
        return 0;
    }
    return popcount512(iterations, sink);
}

__attribute__((target("popcnt"))) double bnn_probe_popcount_scalar(int64_t iterations, uint64_t *sink) {
    uint64_t x[4], acc[8];
    for (int i = 0; i < 4; i++) x[i] = 0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1);
    for (int i = 0; i < 8; i++) acc[i] = 0;
    for (int64_t it = 0; it < iterations; it++) {
        __asm__ volatile("" : "+r"(x[0]), "+r"(x[1]), "+r"(x[2]), "+r"(x[3]));
        for (int i = 0; i < 8; i++) {
            acc[i] += (uint64_t)__builtin_popcountll(x[i % 4] ^ (i < 4 ? 0x5a5a5a5a12345678ULL : 0x0f0f0f0f33333333ULL));
        }
    }
    uint64_t total = 0;
    for (int i = 0; i < 8; i++) total ^= acc[i];
    *sink = total;
    return 512.0 * (double)iterations;
}

#else

double bnn_probe_fma(int64_t iterations, float *sink) {
    float acc[12];
    for (int i = 0; i < 12; i++) acc[i] = (float)i * 0.001f;
    for (int64_t it = 0; it < iterations; it++) {
        for (int i = 0; i < 12; i++) acc[i] = acc[i] * 0.999999f + 1e-7f;
    }
    float total = 0;
    for (int i = 0; i < 12; i++) total += acc[i];
    *sink = total;
    return 24.0 * (double)iterations;
}

double bnn_probe_popcount_vector(int64_t iterations, uint64_t *sink) {
    (void)iterations;
    *sink = 0;
    return 0;
}

double bnn_probe_fma512(int64_t iterations, float *sink) {
    (void)iterations;
    *sink = 0;
    return 0;
}

double bnn_probe_popcount512(int64_t iterations, uint64_t *sink) {
    (void)iterations;
    *sink = 0;
    return 0;
}

double bnn_probe_popcount_scalar(int64_t iterations, uint64_t *sink) {
    uint64_t acc[8];
    for (int i = 0; i < 8; i++) acc[i] = 0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1);
    for (int64_t it = 0; it < iterations; it++) {
        for (int i = 0; i < 8; i++) acc[i] += (uint64_t)__builtin_popcountll(acc[i] ^ 0x5a5a5a5a12345678ULL);
    }
    uint64_t total = 0;
    for (int i = 0; i < 8; i++) total ^= acc[i];
    *sink = total;
    return 512.0 * (double)iterations;
}

#endif
