import BNNKernels

/// One implementation of the XNOR-popcount convolution in `BNNKernels`: the portable reference or
/// one of its optimised twins. A ``PreparedBinaryConvolution`` picks one when it is prepared and
/// calls it directly on every run.
public enum BinaryKernelVariant: String, CaseIterable, Sendable, CustomStringConvertible {
    /// The portable C loop over the valid taps (`bnn_binary_conv_rows_reference`).
    case reference
    /// 4 pixels × 8 output channels register tiles with a `vpshufb` popcount (x86-64, AVX2+FMA+POPCNT).
    case avx2
    /// 8 pixels × 8 output channels with `vpopcntq` (x86-64, AVX-512 F/BW/VL and VPOPCNTDQ).
    case avx512
    /// `vcntq_u8` tiles (arm64).
    case neon

    /// A readable name: `reference`, `AVX2`, `AVX-512` or `NEON`.
    public var description: String {
        switch self {
        case .reference: return "reference"
        case .avx2: return "AVX2"
        case .avx512: return "AVX-512"
        case .neon: return "NEON"
        }
    }

    /// Whether this CPU can run the variant, whatever `BNN_KERNELS` says.
    public var isAvailable: Bool {
        switch self {
        case .reference: return true
        #if arch(x86_64)
        case .avx2: return bnn_cpu_detected_features() & BNN_CPU_AVX2_FMA_POPCNT.rawValue != 0
        case .avx512: return bnn_binary_avx512_detected() != 0
        case .neon: return false
        #elseif arch(arm64)
        case .neon: return true
        case .avx2, .avx512: return false
        #else
        case .avx2, .avx512, .neon: return false
        #endif
        }
    }

    /// The optimised variants this CPU can run (for tests that compare each with the reference).
    public static var optimised: [BinaryKernelVariant] { allCases.filter { $0 != .reference && $0.isAvailable } }

    /// The fastest variant this CPU runs, after `BNN_KERNELS` (`reference` forces the portable loop,
    /// `avx2` keeps an AVX-512 machine on AVX2) and ``KernelSelection``: the variant
    /// `bnn_binary_kernel_name` names.
    public static var selected: BinaryKernelVariant {
        switch String(cString: bnn_binary_kernel_name()) {
        case "avx512-vpopcntdq": return .avx512
        case "avx2": return .avx2
        case "neon": return .neon
        default: return .reference
        }
    }

    /// Runs rows `begin..<end` of `params` with this variant (the reference where the variant does
    /// not exist on this architecture; each optimised kernel itself falls back to the reference when
    /// the input margin is smaller than the padding).
    func convolveRows(_ params: UnsafePointer<bnn_binary_conv_params>, _ begin: Int, _ end: Int) -> Int {
        switch self {
        #if arch(x86_64)
        case .avx2: return Int(bnn_binary_conv_rows_avx2(params, Int64(begin), Int64(end)))
        case .avx512: return Int(bnn_binary_conv_rows_avx512(params, Int64(begin), Int64(end)))
        #elseif arch(arm64)
        case .neon: return Int(bnn_binary_conv_rows_neon(params, Int64(begin), Int64(end)))
        #endif
        default: return Int(bnn_binary_conv_rows_reference(params, Int64(begin), Int64(end)))
        }
    }
}
