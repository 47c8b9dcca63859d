import Foundation

/// DoReFa-Net's k-bit quantizer (Zhou et al. 2016; Larq's `DoReFa`), for the real-valued layers
/// binary networks keep at their edges.
///
/// - Activations: `q(clip(x, 0, 1))` with `q(u) = round(u·(2ᵏ − 1)) / (2ᵏ − 1)`; the gradient passes
///   where `0 ≤ x ≤ 1` (straight-through through the rounding, the clip's own gradient outside).
/// - Weights: `t = tanh(W)`, `u = t / (2·max|t|) + ½`, output `2·q(u) − 1` in [−1, 1]. The rounding is
///   straight-through; the gradient flows through `tanh` and through the maximum, as automatic
///   differentiation of Larq's definition gives: with `g = ∂L/∂output` and `m` the index of the
///   maximum, `∂L/∂t_j = g_j/M − [j = m]·sign(t_m)·Σᵢ gᵢ tᵢ / M²` and `∂L/∂W_j = ∂L/∂t_j · (1 − t_j²)`.
public struct DoReFa: Quantizer {
    /// What is quantized, which decides the mapping.
    public enum Mode: String, Sendable, CaseIterable {
        /// Activations in [0, 1].
        case activations
        /// Weights, mapped through `tanh` to [−1, 1].
        case weights
    }

    /// Bits per value k (1…16).
    public let bits: Int
    /// Activations or weights.
    public let mode: Mode

    /// Creates the quantizer.
    ///
    /// - Precondition: `1 ≤ bits ≤ 16`.
    public init(bits: Int = 2, mode: Mode = .activations) {
        precondition((1...16).contains(bits), "DoReFa: bits must lie in 1…16, got \(bits)")
        self.bits = bits
        self.mode = mode
    }

    /// E.g. `dorefa(2 bit, activations)`.
    public var name: String { "dorefa(\(bits) bit, \(mode.rawValue))" }

    /// The number of steps 2ᵏ − 1.
    private var levels: Float { Float((1 << bits) - 1) }

    /// The quantized tensor (see the type's description).
    public func quantize(_ input: Tensor) -> Tensor {
        let n = levels
        switch mode {
        case .activations:
            return input.map { (Swift.min(Swift.max($0, 0), 1) * n).rounded(.toNearestOrEven) / n }
        case .weights:
            let t = input.map { Foundation.tanh($0) }
            let halfInverseMax = 1 / (2 * Swift.max(t.maxAbs(), .leastNormalMagnitude))
            return t.map { 2 * (($0 * halfInverseMax + 0.5) * n).rounded(.toNearestOrEven) / n - 1 }
        }
    }

    /// The straight-through gradient (see the type's description).
    public func backward(input: Tensor, outputGradient: Tensor) -> Tensor {
        switch mode {
        case .activations:
            return maskedGradient(input: input, outputGradient: outputGradient) { $0 >= 0 && $0 <= 1 }
        case .weights:
            precondition(input.shape == outputGradient.shape, "\(name): gradient shape \(outputGradient.shape) != \(input.shape)")
            let t = input.map { Foundation.tanh($0) }.scalars
            let g = outputGradient.scalars
            guard let m = t.indices.max(by: { Swift.abs(t[$0]) < Swift.abs(t[$1]) }), t[m] != 0 else {
                return Tensor(zeros: input.shape)
            }
            let maximum = Double(Swift.abs(t[m]))
            var dot = 0.0
            for i in t.indices { dot += Double(g[i]) * Double(t[i]) }
            var dt = g.map { Double($0) / maximum }
            dt[m] -= (t[m] > 0 ? 1 : -1) * dot / (maximum * maximum)
            return Tensor(shape: input.shape, scalars: t.indices.map { Float(dt[$0] * (1 - Double(t[$0]) * Double(t[$0]))) })
        }
    }
}
