import BNNKernels
import Foundation

/// The state of ``AdamRule`` (Adam and AdamW): the two moment estimates.
public struct AdamState: OptimizerParameterState {
    /// The first-moment estimate `m` (PyTorch `exp_avg`), shaped like the parameter.
    public var expAvg: Tensor
    /// The second-moment estimate `v` (PyTorch `exp_avg_sq`), shaped like the parameter.
    public var expAvgSq: Tensor

    /// Zero moments for `parameter`.
    init(for parameter: Parameter) {
        expAvg = Tensor(zeros: parameter.value.shape)
        expAvgSq = Tensor(zeros: parameter.value.shape)
    }

    /// `[expAvg, expAvgSq]`.
    public var slots: [Tensor] {
        get { [expAvg, expAvgSq] }
        set {
            precondition(newValue.count == 2, "AdamState: expected 2 slots, found \(newValue.count)")
            expAvg = newValue[0]
            expAvgSq = newValue[1]
        }
    }

    /// The slot names in checkpoints, as in PyTorch's Adam state.
    static let slotNames = ["exp_avg", "exp_avg_sq"]

    /// The moment update and parameter step shared by Adam and AdamW, as PyTorch's single-tensor
    /// Adam computes it: `Float` element arithmetic, `Double` scalar coefficients (rounded to
    /// `Float` where they meet the tensors), in one vectorised C pass (`bnn_adam_step`).
    ///
    /// ```
    /// g = g + λ₂·θ                             (L2 decay, Adam only, when λ₂ ≠ 0)
    /// m = m + (1 − β₁)·(g − m)
    /// v = β₂·v + (1 − β₂)·g·g
    /// θ = θ − (η / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
    /// ```
    mutating func step(_ parameter: Parameter, beta1: Double, beta2: Double, epsilon: Double,
                       l2Decay: Double, learningRate: Double, step: Int) {
        let t = Double(step)
        let biasCorrection1 = 1 - pow(beta1, t)
        let biasCorrection2Root = (1 - pow(beta2, t)).squareRoot()
        let coefficients = bnn_adam_coefficients(
            decay: Float(l2Decay), weight1: Float(1 - beta1), beta2: Float(beta2), weight2: Float(1 - beta2),
            rootCorrection: Float(biasCorrection2Root), epsilon: Float(epsilon),
            negativeStepSize: Float(-(learningRate / biasCorrection1)))
        withUnsafePointer(to: coefficients) { k in
            parameter.gradient.withUnsafeBufferPointer { g in
                expAvg.withUnsafeMutableBufferPointer { m in
                    expAvgSq.withUnsafeMutableBufferPointer { v in
                        parameter.value.withUnsafeMutableBufferPointer { p in
                            let (m, v, p) = (m, v, p)
                            Parallel.forEachElementRange(p.count) { range in
                                let i = range.lowerBound
                                bnn_adam_step(g.baseAddress! + i, m.baseAddress! + i, v.baseAddress! + i, p.baseAddress! + i,
                                              range.count, k)
                            }
                        }
                    }
                }
            }
        }
    }
}
