/// A quantizer of tensors with a surrogate gradient: the general form of ``SignQuantizer`` for
/// outputs that are not plain signs (Larq's `magnitude_aware_sign`, `ste_heaviside`, `DoReFa`).
///
/// Quantizers are values handed to layers: a ``QuantizedActivation`` applies one to activations,
/// ``Conv2D/weightQuantizer`` and ``Linear/weightQuantizer`` to weights.
public protocol Quantizer: Sendable {
    /// A short name for summaries and logs (`ste_heaviside`, `dorefa(2 bit, activations)`, …).
    var name: String { get }
    /// Bits per quantized value.
    var bits: Int { get }
    /// The quantized values, same shape as `input`.
    func quantize(_ input: Tensor) -> Tensor
    /// The surrogate gradient with respect to `input` given `outputGradient`, the gradient of the
    /// loss with respect to `quantize(input)` (same shape).
    func backward(input: Tensor, outputGradient: Tensor) -> Tensor
}

extension Quantizer {
    /// `outputGradient` where `mask(x)` holds, else 0 (the clipped straight-through estimator).
    func maskedGradient(input: Tensor, outputGradient: Tensor, where mask: (Float) -> Bool) -> Tensor {
        precondition(input.shape == outputGradient.shape, "\(name): gradient shape \(outputGradient.shape) != \(input.shape)")
        return Tensor(shape: input.shape) { dx in
            input.withUnsafeBufferPointer { x in
                outputGradient.withUnsafeBufferPointer { dy in
                    for i in 0..<x.count { dx[i] = mask(x[i]) ? dy[i] : 0 }
                }
            }
        }
    }
}

/// Larq's `ste_heaviside`: 1 where `x > 0`, else 0 (one bit, values {0, 1}); the gradient passes
/// where `|x| ≤ clipValue` (straight-through, clipped).
public struct SteHeaviside: Quantizer {
    /// The gradient is zeroed where `|x|` exceeds this (Larq's default 1).
    public var clipValue: Float
    /// Creates the quantizer.
    public init(clipValue: Float = 1) {
        precondition(clipValue > 0, "SteHeaviside: clip value must be positive")
        self.clipValue = clipValue
    }
    /// `ste_heaviside(clip c)`.
    public var name: String { "ste_heaviside(clip \(clipValue))" }
    /// 1.
    public var bits: Int { 1 }
    /// `x > 0 ? 1 : 0`.
    public func quantize(_ input: Tensor) -> Tensor { input.map { $0 > 0 ? 1 : 0 } }
    /// `dy` where `|x| ≤ clipValue`, else 0.
    public func backward(input: Tensor, outputGradient: Tensor) -> Tensor {
        let clip = clipValue
        return maskedGradient(input: input, outputGradient: outputGradient) { Swift.abs($0) <= clip }
    }
}

/// Larq's `magnitude_aware_sign` (the Bi-Real Net paper's weight quantizer) for weights whose first
/// axis is the output channel (O×kH×kW×C, O×F): `α[o]·sign(W)` with `α[o] = mean|W[o]|` and
/// sign(0) = 0. The scale is a constant in the backward pass, which is the clipped straight-through
/// estimator scaled by α: `α[o]·dy` where `|W| ≤ 1`, else 0.
public struct MagnitudeAwareSign: Quantizer {
    /// Creates the quantizer.
    public init() {}
    /// `magnitude_aware_sign`.
    public var name: String { "magnitude_aware_sign" }
    /// 1 (plus one real scale per output channel).
    public var bits: Int { 1 }

    /// `α[o]` for every output channel (first axis) of `weights`.
    public func scales(_ weights: Tensor) -> [Float] {
        let rows = weights.shape.first ?? 1
        let length = weights.count / Swift.max(rows, 1)
        return weights.withUnsafeBufferPointer { w in
            (0..<rows).map { o in
                var sum = 0.0
                for i in o * length..<(o + 1) * length { sum += Double(Swift.abs(w[i])) }
                return Float(sum / Double(Swift.max(length, 1)))
            }
        }
    }

    /// `α[o]·sign(W)`.
    public func quantize(_ input: Tensor) -> Tensor {
        scaledPerRow(input, scales(input)) { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }
    }

    /// `α[o]·dy` where `|W| ≤ 1`, else 0.
    public func backward(input: Tensor, outputGradient: Tensor) -> Tensor {
        let masked = maskedGradient(input: input, outputGradient: outputGradient) { Swift.abs($0) <= 1 }
        return scaledPerRow(masked, scales(input)) { $0 }
    }

    /// `scale[row] · f(x)` for every element of each first-axis row.
    private func scaledPerRow(_ x: Tensor, _ scale: [Float], _ f: (Float) -> Float) -> Tensor {
        let length = x.count / Swift.max(scale.count, 1)
        return Tensor(shape: x.shape) { out in
            x.withUnsafeBufferPointer { p in
                for i in 0..<p.count { out[i] = scale[i / length] * f(p[i]) }
            }
        }
    }
}
