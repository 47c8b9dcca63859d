#include "bnn_cpu.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

// -1: not decided yet; BNN_KERNELS is read once. Atomic: kernels on several threads ask at once.
static _Atomic int forced_reference = -1;

uint32_t bnn_cpu_detected_features(void) {
    uint32_t features = 0;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("popcnt")) {
        features |= BNN_CPU_AVX2_FMA_POPCNT;
    }
#elif defined(__aarch64__)
    features |= BNN_CPU_NEON;
#endif
    return features;
}

uint32_t bnn_cpu_features(void) {
    int forced = atomic_load_explicit(&forced_reference, memory_order_relaxed);
    if (forced < 0) {
        const char *value = getenv("BNN_KERNELS");
        forced = (value != NULL && strcmp(value, "reference") == 0) ? 1 : 0;
        atomic_store_explicit(&forced_reference, forced, memory_order_relaxed);
    }
    return forced ? 0 : bnn_cpu_detected_features();
}

void bnn_cpu_force_reference(int force) {
    atomic_store_explicit(&forced_reference, force ? 1 : 0, memory_order_relaxed);
}

const char *bnn_cpu_kernel_name(void) {
    uint32_t features = bnn_cpu_features();
    if (features & BNN_CPU_AVX2_FMA_POPCNT) return "avx2";
    if (features & BNN_CPU_NEON) return "neon";
    return "reference";
}
