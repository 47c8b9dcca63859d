/// A sign function with a chosen gradient estimator, in the spirit of Larq's quantizers.
///
/// The forward pass of every quantizer is `sign(x)` with **sign(0) = 0** (as the reference model
/// computes it in training; a bit-packed inference kernel cannot represent 0 and treats it as +1, which
/// matters only for inputs that are exactly zero). The quantizer decides the backward pass: the true
/// derivative of `sign` is zero almost everywhere, so training uses a surrogate.
///
/// The backward pass works on whole buffers so that the per-element loop is monomorphic: one
/// existential call per tensor, none per element.
public protocol SignQuantizer: Sendable {
    /// A short name for summaries and logs (`approx_sign`, `ste_sign`, …).
    var name: String { get }
    /// Writes `inputGradient[i] = outputGradient[i] · d̃sign(input[i])` for every element.
    func backward(input: UnsafeBufferPointer<Float>, outputGradient: UnsafeBufferPointer<Float>,
                  inputGradient: UnsafeMutableBufferPointer<Float>)
}

extension SignQuantizer {
    /// `sign(x)` element-wise with sign(0) = 0.
    public func forward(_ input: Tensor) -> Tensor {
        Tensor(shape: input.shape) { out in
            input.withUnsafeBufferPointer { x in
                Parallel.forEachElementRange(x.count) { range in
                    for i in range { out[i] = x[i] > 0 ? 1 : (x[i] < 0 ? -1 : 0) }
                }
            }
        }
    }

    /// The surrogate gradient for `input` given the gradient of its sign.
    public func backward(input: Tensor, outputGradient: Tensor) -> Tensor {
        precondition(input.shape == outputGradient.shape, "\(name): gradient shape \(outputGradient.shape) != \(input.shape)")
        return Tensor(shape: input.shape) { dx in
            input.withUnsafeBufferPointer { x in
                outputGradient.withUnsafeBufferPointer { dy in
                    Parallel.forEachElementRange(x.count) { r in
                        backward(input: UnsafeBufferPointer(rebasing: x[r]), outputGradient: UnsafeBufferPointer(rebasing: dy[r]),
                                 inputGradient: UnsafeMutableBufferPointer(rebasing: dx[r]))
                    }
                }
            }
        }
    }
}

/// Bi-Real Net's approximate sign: the derivative of the piecewise polynomial
/// −1 (x < −1), x² + 2x (−1 ≤ x < 0), −x² + 2x (0 ≤ x < 1), 1 (x ≥ 1), i.e. `2 − 2|x|` on [−1, 1], else 0.
public struct ApproxSign: SignQuantizer {
    /// Creates the quantizer.
    public init() {}
    /// `approx_sign`.
    public var name: String { "approx_sign" }
    /// `dy · max(0, 2 − 2|x|)`.
    public func backward(input: UnsafeBufferPointer<Float>, outputGradient: UnsafeBufferPointer<Float>,
                         inputGradient: UnsafeMutableBufferPointer<Float>) {
        for i in 0..<input.count {
            let a = Swift.min(Swift.abs(input[i]), 1)
            inputGradient[i] = outputGradient[i] * (2 - 2 * a)
        }
    }
}

/// The straight-through estimator: the gradient passes unchanged, or — with a clip value —
/// only where `|x| ≤ clipValue` (Larq's `ste_sign(clip_value=1)`, the paper variant's weights).
public struct SteSign: SignQuantizer {
    /// The gradient is zeroed where `|x|` exceeds this; `nil` passes it everywhere (identity).
    public var clipValue: Float?
    /// Creates the quantizer; `clipValue: nil` for the identity straight-through estimator.
    public init(clipValue: Float? = 1) { self.clipValue = clipValue }
    /// `ste_sign` or `ste_sign(clip c)`.
    public var name: String { clipValue.map { "ste_sign(clip \($0))" } ?? "ste_sign" }
    /// `dy` where `|x| ≤ clipValue` (everywhere without a clip value), else 0.
    public func backward(input: UnsafeBufferPointer<Float>, outputGradient: UnsafeBufferPointer<Float>,
                         inputGradient: UnsafeMutableBufferPointer<Float>) {
        guard let clip = clipValue else {
            for i in 0..<input.count { inputGradient[i] = outputGradient[i] }
            return
        }
        for i in 0..<input.count { inputGradient[i] = Swift.abs(input[i]) <= clip ? outputGradient[i] : 0 }
    }
}

/// The SwishSign estimator (Darabi et al., Larq's `swish_sign`): the derivative of
/// `2σ(βx)(1 + βx(1 − σ(βx))) − 1`, i.e. `β(2 − βx·tanh(βx/2)) / (1 + cosh(βx))`.
public struct SwishSign: SignQuantizer {
    /// Sharpness β (Larq's default 5).
    public var beta: Float
    /// Creates the quantizer.
    public init(beta: Float = 5) { self.beta = beta }
    /// `swish_sign(β)`.
    public var name: String { "swish_sign(β \(beta))" }
    /// `dy · β(2 − βx·tanh(βx/2)) / (1 + cosh(βx))`.
    public func backward(input: UnsafeBufferPointer<Float>, outputGradient: UnsafeBufferPointer<Float>,
                         inputGradient: UnsafeMutableBufferPointer<Float>) {
        for i in 0..<input.count {
            let bx = beta * input[i]
            let derivative = beta * (2 - bx * Foundation.tanh(bx / 2)) / (1 + Foundation.cosh(bx))
            inputGradient[i] = outputGradient[i] * derivative
        }
    }
}

import Foundation
