/// The per-output-channel epilogue fused into ``BinaryConvolution``: from the exact integer ±1 dot
/// product `dot` of output channel `o` it computes, in this order and in `Float`,
/// `v = scale[o]·dot + bias[o]` (a multiply, then an add; no fused multiply-add, so every kernel
/// variant gives the same bits), `v += residual` when the convolution has a residual, and
/// `v = min(max(v, clamp.lowerBound), clamp.upperBound)` when ``clamp`` is set.
///
/// The caller folds the binary scale α and a following BatchNorm into `scale` and `bias`
/// (``folding(alpha:gamma:beta:runningMean:runningVariance:epsilon:clamp:)``); a HardTanh after the
/// residual add is the clamp to −1…1.
public struct BinaryOutputTransform: Sendable, Equatable {
    /// Multiplier per output channel (O values).
    public var scale: [Float]
    /// Addend per output channel (O values), or nil for none.
    public var bias: [Float]?
    /// The range the result is clamped to after the residual add, or nil for none.
    public var clamp: ClosedRange<Float>?

    /// Creates a transform; `scale` and `bias` need one value per output channel.
    public init(scale: [Float], bias: [Float]? = nil, clamp: ClosedRange<Float>? = nil) {
        self.scale = scale
        self.bias = bias
        self.clamp = clamp
    }

    /// `dot·α[o]`: Bi-Real Net's binary convolution output, conv(sign(x), sign(W))·α.
    public static func scaling(by alpha: [Float]) -> BinaryOutputTransform {
        BinaryOutputTransform(scale: alpha)
    }

    /// α followed by an inference-mode BatchNorm, folded into one multiply-add per channel:
    /// `scale = α·γ/√(σ²+ε)`, `bias = β − μ·γ/√(σ²+ε)`. The result equals
    /// `BN(α·dot)` up to float rounding (a few ulps), not bit for bit.
    ///
    /// - Precondition: every array has the same count (one value per output channel).
    public static func folding(alpha: [Float], gamma: [Float], beta: [Float], runningMean: [Float],
                               runningVariance: [Float], epsilon: Float = 1e-5,
                               clamp: ClosedRange<Float>? = nil) -> BinaryOutputTransform {
        let count = alpha.count
        precondition([gamma.count, beta.count, runningMean.count, runningVariance.count].allSatisfy { $0 == count },
                     "BinaryOutputTransform.folding: per-channel arrays differ in count")
        var scale = [Float](repeating: 0, count: count)
        var bias = [Float](repeating: 0, count: count)
        for o in 0..<count {
            let g = gamma[o] / (runningVariance[o] + epsilon).squareRoot()
            scale[o] = alpha[o] * g
            bias[o] = beta[o] - runningMean[o] * g
        }
        return BinaryOutputTransform(scale: scale, bias: bias, clamp: clamp)
    }
}
