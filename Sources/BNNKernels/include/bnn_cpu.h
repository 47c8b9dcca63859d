#ifndef BNN_CPU_H
#define BNN_CPU_H

#include <stdint.h>

/// Kernel families the running CPU supports; bit flags.
typedef enum {
    BNN_CPU_AVX2_FMA_POPCNT = 1u << 0, ///< x86_64 with AVX2, FMA and POPCNT
    BNN_CPU_NEON = 1u << 1,            ///< arm64 Advanced SIMD
} bnn_cpu_feature;

/// The features of this CPU that kernels may use (0 when `BNN_KERNELS=reference` is set or when
/// the forced set was cleared with `bnn_cpu_force_reference(1)`).
uint32_t bnn_cpu_features(void);

/// The features the CPU really has, regardless of any forcing.
uint32_t bnn_cpu_detected_features(void);

/// Forces (nonzero) or stops forcing (0) the portable reference kernels for the whole process.
void bnn_cpu_force_reference(int force);

/// A short name of the active kernel family: "avx2", "neon" or "reference".
const char *bnn_cpu_kernel_name(void);

#endif
