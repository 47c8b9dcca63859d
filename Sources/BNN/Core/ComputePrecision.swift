import BNNKernels

/// The operand precision of matrix products (convolutions and fully connected layers); a layer
/// holds one for each pass in its ``PrecisionPolicy``.
///
/// Mixed precision changes only the operands of the products: they are rounded to bfloat16 (8
/// mantissa bits) right before the kernels read them, the sums run in single precision, and
/// everything a layer stores — its weights (the optimizer's master copy), their gradients,
/// activations, BatchNorm statistics, the loss and its scaling — stays single precision.
public enum ComputePrecision: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Single-precision operands (the default; bit-identical to a build without mixed precision).
    case fp32
    /// bfloat16 operands with single-precision accumulation (``BFloat16GEMM``).
    case bf16

    /// "fp32" or "bf16".
    public var description: String { rawValue }

    /// The precision to train with when `requested` is asked for on this CPU, and why it differs:
    /// bfloat16 falls back to single precision when the CPU has no bfloat16 dot-product instructions
    /// (``BFloat16GEMM/hardwareAvailable``) or `BNN_KERNELS=reference` forces the portable kernels,
    /// where it would only be slower. `reason` is nil when `requested` is granted.
    public static func granted(_ requested: ComputePrecision) -> (precision: ComputePrecision, reason: String?) {
        guard requested == .bf16 else { return (requested, nil) }
        if !BFloat16GEMM.hardwareAvailable {
            return (.fp32, "this CPU has no bfloat16 dot-product instructions (AVX512-BF16 or Arm BF16); "
                        + "training in fp32")
        }
        if BFloat16GEMM.Kernel.active == .reference {
            return (.fp32, "BNN_KERNELS=reference forces the portable kernels; training in fp32")
        }
        return (.bf16, nil)
    }
}

/// Which passes of a layer run their products in bfloat16: the mixed-precision levels of the
/// reference recipe's `amp_level`.
///
/// A binary network takes the sign of its activations, so the forward pass decides which way every
/// sign falls: bfloat16 in the forward float layers (the stem, the 1×1 shortcuts, the classifier)
/// perturbs values near zero enough to flip some signs, and the network then computes a slightly
/// different function. ``backwardBF16`` (O1) keeps the forward pass in fp32 — the same signs, logits
/// and loss as fp32 training — and rounds only the operands of the gradient products, which are most
/// of the float work of a step (the input- and weight-gradient passes of every convolution).
/// ``bf16`` (O2) also runs the forward products in bfloat16, as PyTorch's autocast does.
public struct PrecisionPolicy: Sendable, Equatable, CustomStringConvertible {
    /// The precision of the forward pass's products.
    public var forward: ComputePrecision
    /// The precision of the backward pass's products (input and weight gradients).
    public var backward: ComputePrecision

    /// Creates a policy from the precisions of the two passes.
    public init(forward: ComputePrecision, backward: ComputePrecision) {
        self.forward = forward
        self.backward = backward
    }

    /// Everything in fp32 (the default; `amp_level: O0`).
    public static let fp32 = PrecisionPolicy(forward: .fp32, backward: .fp32)
    /// fp32 forward pass, bfloat16 operands in the backward pass (`amp_level: O1`).
    public static let backwardBF16 = PrecisionPolicy(forward: .fp32, backward: .bf16)
    /// bfloat16 operands in the forward and backward passes (`amp_level: O2`).
    public static let bf16 = PrecisionPolicy(forward: .bf16, backward: .bf16)

    /// The policy named `name`: `fp32` or `O0`; `bf16` or `O1` (``backwardBF16``); `bf16-o2` or `O2`
    /// (``bf16``); case-insensitive. Nil for any other name.
    public init?(name: String) {
        switch name.lowercased() {
        case "fp32", "o0": self = .fp32
        case "bf16", "o1": self = .backwardBF16
        case "bf16-o2", "o2": self = .bf16
        default: return nil
        }
    }

    /// Whether any pass uses bfloat16.
    public var usesBF16: Bool { forward == .bf16 || backward == .bf16 }

    /// "fp32", "bf16 backward (O1)" or "bf16 forward and backward (O2)".
    public var description: String {
        switch (forward, backward) {
        case (.fp32, .fp32): return "fp32"
        case (.fp32, .bf16): return "bf16 backward (O1)"
        case (.bf16, .bf16): return "bf16 forward and backward (O2)"
        case (.bf16, .fp32): return "bf16 forward, fp32 backward"
        }
    }

    /// The policy to train with when `requested` is asked for on this CPU, and why it differs: any
    /// bfloat16 falls back to ``fp32`` where ``ComputePrecision/granted(_:)`` refuses bfloat16;
    /// `reason` is nil when `requested` is granted.
    public static func granted(_ requested: PrecisionPolicy) -> (policy: PrecisionPolicy, reason: String?) {
        guard requested.usesBF16, let reason = ComputePrecision.granted(.bf16).reason else { return (requested, nil) }
        return (.fp32, reason)
    }
}

/// A layer whose matrix products can run in another precision.
public protocol PrecisionSelectable: AnyObject {
    /// The operand precision of this layer's products in each pass (default ``PrecisionPolicy/fp32``).
    var precision: PrecisionPolicy { get set }
}

extension Module {
    /// Sets ``PrecisionSelectable/precision`` on this module and every module below it that has
    /// one; returns how many were set.
    @discardableResult
    public func setPrecision(_ policy: PrecisionPolicy) -> Int {
        var count = 0
        if let layer = self as? PrecisionSelectable {
            layer.precision = policy
            count += 1
        }
        for child in children { count += child.module.setPrecision(policy) }
        return count
    }
}
