import BNNKernels

/// Which CPU kernel families run: chosen at run time from the CPU's features (AVX-512 or AVX2+FMA+POPCNT
/// on x86_64, NEON on arm64, a portable reference otherwise), or forced to the reference kernels with the
/// environment variable `BNN_KERNELS=reference`.
public enum KernelSelection {
    /// The float (SGEMM) kernels' family: `avx512`, `avx2`, `neon` or `reference`.
    public static var activeFamily: String { GEMM.Kernel.active.description }

    /// The binary kernels' family: `avx512` (VPOPCNTDQ), `avx2`, `neon` or `reference`.
    public static var binaryFamily: String { String(cString: bnn_binary_kernel_name()) }

    /// Forces the portable reference kernels (`true`) or restores run-time selection (`false`) for the
    /// whole process; set it before work starts, not while kernels run.
    public static func forceReference(_ force: Bool) { bnn_cpu_force_reference(force ? 1 : 0) }
}
