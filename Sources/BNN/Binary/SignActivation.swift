import BNNKernels

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

    /// The input as it came (the backward pass recomputes x/σ from it, which costs no pass of its own)
    /// and, when it was variance-normalised, 1/σ per sample.
    private var recorded: (input: Tensor, inverseStd: [Float]?)?

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
        record(input, mode: mode)
        return quantizer.forward(input)
    }

    /// Keeps what ``backward(_:)`` needs of a forward pass over `input` without computing the signs
    /// (for a layer that binarises `input` itself, e.g. into packed bits).
    func record(_ input: Tensor, mode: ForwardMode) {
        guard mode.recordsForBackward else {
            recorded = nil
            return
        }
        recorded = (input, normalizesVariance && mode.isTraining ? Self.perSampleInverseStd(input) : nil)
    }

    /// The estimator's gradient, then the gradient of the variance normalisation when it was applied:
    /// with u = x/σ and g = ∂L/∂u, `∂L/∂x_j = g_j/σ − (x_j − μ)/(M σ³) · Σ_i g_i x_i` per sample of M values.
    ///
    /// With the normalisation, each sample is read twice in blocks that stay in the L1 cache: once for
    /// Σ g·u and Σ u, once for the input gradient, u = x·(1/σ) and g recomputed in each (the values
    /// of a separate pass, without one).
    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard let (input, inverseStd) = recorded else {
            preconditionFailure("SignActivation.backward without a recording forward pass")
        }
        recorded = nil
        guard let inverseStd else { return quantizer.backward(input: input, outputGradient: outputGradient) }
        precondition(input.shape == outputGradient.shape,
                     "SignActivation: gradient shape \(outputGradient.shape) != \(input.shape)")
        let quantizer = quantizer
        let n = input.shape[0]
        let m = input.count / max(1, n)
        let block = Self.blockLength
        return Tensor(shape: input.shape) { dx in
            input.withUnsafeBufferPointer { x in
                outputGradient.withUnsafeBufferPointer { dy in
                    Parallel.forEachChunk(n) { samples in
                        withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * block) { scratch in
                            withUnsafeTemporaryAllocation(of: Double.self, capacity: 16) { lanes in
                                let u = scratch.baseAddress!, g = u + block
                                // u = x·r and g = the estimator's gradient at u, for `count` values from `start`.
                                func surrogate(_ start: Int, _ count: Int, _ r: Float) {
                                    bnn_scale(x.baseAddress! + start, r, u, count)
                                    quantizer.backward(input: UnsafeBufferPointer(start: u, count: count),
                                                       outputGradient: UnsafeBufferPointer(rebasing: dy[start..<start + count]),
                                                       inputGradient: UnsafeMutableBufferPointer(start: g, count: count))
                                }
                                for s in samples {
                                    let base = s * m
                                    let r = inverseStd[s]
                                    lanes.initialize(repeating: 0)
                                    for start in stride(from: base, to: base + m, by: block) {
                                        let count = min(block, base + m - start)
                                        surrogate(start, count, r)
                                        bnn_lane_dot_sum(g, u, count, lanes.baseAddress!)
                                    }
                                    // In terms of u = x·r: Σ g·x = Σ g·u / r and (x − μ)/σ³ = (u − ū)·r². For a
                                    // constant sample (r = 1 by convention) u − ū = 0 and the gradient is g unchanged.
                                    let meanU = Float(Self.laneTotal(lanes, from: 8) / Double(m))
                                    let k = Float(Self.laneTotal(lanes, from: 0) / Double(m)) * r
                                    for start in stride(from: base, to: base + m, by: block) {
                                        let count = min(block, base + m - start)
                                        surrogate(start, count, r)
                                        bnn_normalized_sign_gradient(g, u, count, r, meanU, k, dx.baseAddress! + start)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Values per block of the backward pass: x/σ and the estimator's gradient of one block (16 KiB)
    /// stay in the L1 cache between the passes over them. A multiple of 8, so that the eight-lane sums
    /// do not depend on it.
    static let blockLength = 2048

    /// The sum of the eight Double lanes from `offset`, in a fixed order.
    static func laneTotal(_ lanes: UnsafeMutableBufferPointer<Double>, from offset: Int) -> Double {
        ((lanes[offset] + lanes[offset + 1]) + (lanes[offset + 2] + lanes[offset + 3]))
            + ((lanes[offset + 4] + lanes[offset + 5]) + (lanes[offset + 6] + lanes[offset + 7]))
    }

    /// 1/σ per sample (population variance over all non-batch axes, the sums in eight Double lanes);
    /// 1 where σ = 0.
    static func perSampleInverseStd(_ x: Tensor) -> [Float] {
        let n = x.shape[0]
        let m = x.count / max(1, n)
        var result = [Float](repeating: 1, count: n)
        guard m > 0 else { return result }
        x.withUnsafeBufferPointer { p in
            result.withUnsafeMutableBufferPointer { r in
                let inverse = r
                Parallel.forEachChunk(n) { samples in
                    withUnsafeTemporaryAllocation(of: Double.self, capacity: 16) { lanes in
                        for s in samples {
                            lanes.initialize(repeating: 0)
                            bnn_lane_sum_squares(p.baseAddress! + s * m, m, lanes.baseAddress!)
                            let mean = laneTotal(lanes, from: 0) / Double(m)
                            let variance = max(0, laneTotal(lanes, from: 8) / Double(m) - mean * mean)
                            inverse[s] = variance > 0 ? Float(1 / variance.squareRoot()) : 1
                        }
                    }
                }
            }
        }
        return result
    }
}
