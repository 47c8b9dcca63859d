/// Binarises activations: `sign(x)` forward, the quantizer's surrogate gradient backward.
///
/// With `normalizesVariance` (the reference Bi-Real Net 34 variant) the input is first divided, in
/// training mode only, by the square root of its per-sample population variance over all non-batch
/// axes (H, W, C), with no epsilon, and the gradient flows through that division. The forward values
/// are unchanged (the sign of x/σ is the sign of x); the gradient is not: the estimator sees x/σ. A
/// sample whose variance is exactly zero is left unnormalised instead of dividing by zero.
public final class SignActivation: TensorLayer {
    /// The sign estimator used in the backward pass.
    public let quantizer: any SignQuantizer
    /// Whether training-mode inputs are divided by their per-sample standard deviation.
    public let normalizesVariance: Bool

    private var recorded: (normalized: Tensor, inverseStd: [Float]?)?

    /// Creates the layer.
    public init(quantizer: any SignQuantizer = ApproxSign(), normalizesVariance: Bool = false) {
        self.quantizer = quantizer
        self.normalizesVariance = normalizesVariance
    }

    /// E.g. `SignActivation(approx_sign, variance-normalised)`.
    public var summaryDescription: String {
        "SignActivation(\(quantizer.name)\(normalizesVariance ? ", variance-normalised" : ""))"
    }

    /// `sign(x)` with sign(0) = 0.
    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        if mode.recordsForBackward {
            if normalizesVariance && mode.isTraining {
                let inverseStd = Self.perSampleInverseStd(input)
                recorded = (Self.scaledPerSample(input, inverseStd), inverseStd)
            } else {
                recorded = (input, nil)
            }
        } else {
            recorded = nil
        }
        return quantizer.forward(input)
    }

    /// The estimator's gradient, then the gradient of the variance normalisation when it was applied:
    /// with u = x/σ and g = ∂L/∂u, `∂L/∂x_j = g_j/σ − (x_j − μ)/(M σ³) · Σ_i g_i x_i` per sample of M values.
    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard let (normalized, inverseStd) = recorded else {
            preconditionFailure("SignActivation.backward without a recording forward pass")
        }
        recorded = nil
        let g = quantizer.backward(input: normalized, outputGradient: outputGradient)
        guard let inverseStd else { return g }
        let n = normalized.shape[0]
        let m = normalized.count / max(1, n)
        return Tensor(shape: normalized.shape) { dx in
            normalized.withUnsafeBufferPointer { u in
                g.withUnsafeBufferPointer { gu in
                    Parallel.forEachChunk(n) { samples in
                        for s in samples {
                            let base = s * m
                            let r = inverseStd[s]
                            // In terms of u = x·r: Σ g·x = Σ g·u / r and (x − μ)/σ³ = (u − ū)·r². For a
                            // constant sample (r = 1 by convention) u − ū = 0 and the gradient is g unchanged.
                            var sumGU = 0.0, sumU = 0.0
                            for i in base..<base + m { sumGU += Double(gu[i]) * Double(u[i]); sumU += Double(u[i]) }
                            let meanU = Float(sumU / Double(m))
                            let k = Float(sumGU / Double(m)) * r
                            for i in base..<base + m { dx[i] = gu[i] * r - (u[i] - meanU) * k }
                        }
                    }
                }
            }
        }
    }

    /// 1/σ per sample (population variance over all non-batch axes); 1 where σ = 0.
    static func perSampleInverseStd(_ x: Tensor) -> [Float] {
        let n = x.shape[0]
        let m = x.count / max(1, n)
        var result = [Float](repeating: 1, count: n)
        x.withUnsafeBufferPointer { p in
            result.withUnsafeMutableBufferPointer { r in
                let inverse = r
                Parallel.forEachChunk(n) { samples in
                    for s in samples {
                        var sum = 0.0, sumSquares = 0.0
                        for i in s * m..<(s + 1) * m { let v = Double(p[i]); sum += v; sumSquares += v * v }
                        let mean = sum / Double(m)
                        let variance = max(0, sumSquares / Double(m) - mean * mean)
                        inverse[s] = variance > 0 ? Float(1 / variance.squareRoot()) : 1
                    }
                }
            }
        }
        return result
    }

    /// `x · scale[sample]`.
    static func scaledPerSample(_ x: Tensor, _ scale: [Float]) -> Tensor {
        let m = x.count / max(1, x.shape[0])
        return Tensor(shape: x.shape) { out in
            x.withUnsafeBufferPointer { p in
                Parallel.forEachRowRange(scale.count, rowLength: m) { samples in
                    for sample in samples {
                        let factor = scale[sample]
                        for i in sample * m..<(sample + 1) * m { out[i] = p[i] * factor }
                    }
                }
            }
        }
    }
}
