/// Applies a ``Quantizer`` to activations: its quantized values forward, its surrogate gradient
/// backward (Larq's `QuantIdentity`, the input quantizer of a quantized layer as a layer of its own).
public final class QuantizedActivation: TensorLayer {
    /// The quantizer.
    public let quantizer: any Quantizer
    private var recordedInput: Tensor?

    /// Creates the layer.
    public init(quantizer: any Quantizer) { self.quantizer = quantizer }

    /// E.g. `QuantizedActivation(dorefa(2 bit, activations))`.
    public var summaryDescription: String { "QuantizedActivation(\(quantizer.name))" }

    /// `quantizer.quantize(x)`.
    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        recordedInput = mode.recordsForBackward ? input : nil
        return quantizer.quantize(input)
    }

    /// The quantizer's surrogate gradient.
    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard let input = recordedInput else { preconditionFailure("QuantizedActivation.backward without a recording forward pass") }
        recordedInput = nil
        return quantizer.backward(input: input, outputGradient: outputGradient)
    }
}
