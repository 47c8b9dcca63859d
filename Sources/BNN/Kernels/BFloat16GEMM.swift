import BNNKernels

/// Mixed-precision matrix multiplication: bfloat16 operands, single-precision accumulation and
/// results, on row-major single-precision matrices, split across cores like ``GEMM``.
///
/// The work runs in the C kernels of `BNNKernels` (`bnn_bgemm.h`): B is rounded to bfloat16 (to
/// nearest, ties to even) while it is packed into 16-column panels of K-step pairs, A is rounded
/// block by block right before the micro-kernel reads it (12×32 AVX512-BF16 `vdpbf16ps` on x86_64,
/// 6×16 NEON `BFDOT` on arm64, or the 6×16 portable reference), and the sums run in single
/// precision. The caller's matrices stay single precision.
///
/// Accuracy: each operand loses a relative `2⁻⁸` at most to rounding, so an entry of C is within
/// about `2⁻⁷ · Σ|aᵢₖ·bₖⱼ|` (plus the single-precision summation error `K · 2⁻²⁴ · Σ|aᵢₖ·bₖⱼ|`)
/// of the exact product; the rounding errors are unbiased, so the typical error is far smaller.
public enum BFloat16GEMM {
    /// The bfloat16 micro-kernel families.
    public enum Kernel: Sendable, CaseIterable, CustomStringConvertible {
        /// Portable C, runs on any CPU (for checking; too slow to train with).
        case reference
        /// x86_64 AVX512-BF16 (`vdpbf16ps`).
        case avx512BF16
        /// arm64 BF16 extension (`BFDOT`).
        case neonBF16

        /// The kernel of this CPU's bfloat16 instructions, or ``reference`` when it has none or
        /// `BNN_KERNELS=reference` forces the portable kernels.
        public static var active: Kernel { Kernel(bnn_bgemm_active_kernel()) }

        /// Whether this kernel can run on the current CPU.
        public var isAvailable: Bool { bnn_bgemm_kernel_available(cValue) != 0 }

        /// A short name: "reference", "avx512-bf16" or "neon-bf16".
        public var description: String {
            switch self {
            case .reference: return "reference"
            case .avx512BF16: return "avx512-bf16"
            case .neonBF16: return "neon-bf16"
            }
        }

        init(_ value: bnn_bgemm_kernel) {
            switch value {
            case BNN_BGEMM_AVX512_BF16: self = .avx512BF16
            case BNN_BGEMM_NEON_BF16: self = .neonBF16
            default: self = .reference
            }
        }

        var cValue: bnn_bgemm_kernel {
            switch self {
            case .reference: return BNN_BGEMM_REFERENCE
            case .avx512BF16: return BNN_BGEMM_AVX512_BF16
            case .neonBF16: return BNN_BGEMM_NEON_BF16
            }
        }
    }

    /// Whether this CPU has bfloat16 dot-product instructions that the kernels use (AVX512-BF16 or
    /// the Arm BF16 extension), whatever `BNN_KERNELS` says. Without them mixed precision would
    /// only be slower than single precision.
    public static var hardwareAvailable: Bool { bnn_bgemm_hardware_available() != 0 }

    /// `value` rounded to the nearest bfloat16 (ties to even), as a Float.
    public static func rounded(_ value: Float) -> Float { bnn_float_from_bf16(bnn_bf16_from_float(value)) }

    /// `C = op(A)·op(B) (+ C when accumulate)` with bfloat16 operands and single-precision sums,
    /// where op(A) is M×K and op(B) is K×N; a transposed operand is stored as its transpose (A as
    /// K×M, B as N×K), all row-major single precision with the given row strides (in floats).
    /// `kernel` nil picks ``Kernel/active``.
    public static func multiply(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                                a: UnsafePointer<Float>, lda: Int,
                                b: UnsafePointer<Float>, ldb: Int,
                                c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool,
                                kernel: Kernel? = nil) {
        precondition(m >= 0 && n >= 0 && k >= 0, "GEMM sizes must be non-negative")
        precondition(lda >= (transposeA ? m : k) && ldb >= (transposeB ? k : n) && ldc >= n,
                     "GEMM row strides must cover the rows")
        guard m > 0, n > 0 else { return }
        let packed = PackedPairPanels(transposed: transposeB, n: n, k: k, b: b, ldb: ldb)
        defer { packed.deallocate() }
        multiply(transposeA: transposeA, m: m, k: k, a: a, lda: lda, packedB: packed, c: c, ldc: ldc,
                 accumulate: accumulate, kernel: kernel ?? .active)
    }

    /// `C (+)= op(A)·B̃` on all threads for a B already rounded and packed.
    static func multiply(transposeA: Bool, m: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                         packedB: PackedPairPanels, c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool,
                         kernel: Kernel) {
        let cKernel = kernel.cValue
        let panels = packedB.base
        GEMM.forEachTile(m: m, n: packedB.n, macs: m * packedB.n * k) { m0, m1, n0, n1 in
            bnn_bgemm_packed(cKernel, transposeA ? 1 : 0, k, a, lda, panels, c, ldc, accumulate ? 1 : 0,
                             m0, m1, n0, n1)
        }
    }

    /// A K×N operand rounded to bfloat16 and packed `[panel][K / 2][16][2]` (64-byte aligned), the
    /// layout of `bnn_bgemm_pack_b`. Owns its memory until ``deallocate()``.
    struct PackedPairPanels {
        /// Columns N of the packed operand.
        let n: Int
        /// The packed bfloat16 values.
        let base: UnsafeMutablePointer<UInt16>

        /// Allocates room for a K×N operand and fills it with `pack(target, panels)`, called on
        /// disjoint panel ranges from several threads.
        init(n: Int, k: Int, pack: (UnsafeMutablePointer<UInt16>, Range<Int>) -> Void) {
            self.n = n
            let count = max(1, bnn_bgemm_packed_b_count(n, k))
            base = UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<UInt16>.stride, alignment: 64)
                .bindMemory(to: UInt16.self, capacity: count)
            let panels = (n + Int(BNN_BGEMM_NR) - 1) / Int(BNN_BGEMM_NR)
            let minimumPanels = max(1, 262_144 / max(1, k * Int(BNN_BGEMM_NR)))
            let target = base
            Parallel.forEachChunk(panels, minimumChunk: minimumPanels) { range in pack(target, range) }
        }

        /// Rounds and packs op(B) (B stored N×K when `transposed`, else K×N).
        init(transposed: Bool, n: Int, k: Int, b: UnsafePointer<Float>, ldb: Int) {
            self.init(n: n, k: k) { target, range in
                bnn_bgemm_pack_b(transposed ? 1 : 0, n, k, b, ldb, range.lowerBound, range.upperBound, target)
            }
        }

        /// Rounds and packs the O×(kH·kW·C) weight of a convolution of geometry `g` as the operand of
        /// its direct bfloat16 pass (`bnn_bconv_pack_direct_weight`: K = `bnn_bconv_direct_patch_size`,
        /// with a zero step after each kernel row when short rows of odd length are read in place).
        init(directConvolutionWeight weight: UnsafePointer<Float>, geometry g: ConvolutionGeometry) {
            var shape = Convolution.cShape(g)
            self.init(n: g.outputChannels, k: bnn_bconv_direct_patch_size(&shape)) { target, range in
                bnn_bconv_pack_direct_weight(&shape, weight, range.lowerBound, range.upperBound, target)
            }
        }

        /// Rounds a single-precision packed operand (`GEMM.PackedPanels`, K×N) into pairs.
        init(rounding panels: GEMM.PackedPanels) {
            let source = UnsafePointer(panels.base)
            self.init(n: panels.n, k: panels.k) { target, range in
                bnn_bgemm_pack_from_panels(source, panels.k, range.lowerBound, range.upperBound, target)
            }
        }

        /// Frees the packed values.
        func deallocate() { UnsafeMutableRawPointer(base).deallocate() }
    }
}

extension GEMM {
    /// `C = op(A)·op(B) (+ C when accumulate)` in `precision`: ``multiply(transposeA:transposeB:m:n:k:a:lda:b:ldb:c:ldc:accumulate:kernel:)``
    /// for ``ComputePrecision/fp32``, ``BFloat16GEMM/multiply(transposeA:transposeB:m:n:k:a:lda:b:ldb:c:ldc:accumulate:kernel:)``
    /// for ``ComputePrecision/bf16`` (each with its automatic kernel choice).
    public static func multiply(precision: ComputePrecision, transposeA: Bool, transposeB: Bool, m: Int, n: Int,
                                k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                                c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        switch precision {
        case .fp32:
            multiply(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a, lda: lda, b: b,
                     ldb: ldb, c: c, ldc: ldc, accumulate: accumulate)
        case .bf16:
            BFloat16GEMM.multiply(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a, lda: lda,
                                  b: b, ldb: ldb, c: c, ldc: ldc, accumulate: accumulate)
        }
    }
}
