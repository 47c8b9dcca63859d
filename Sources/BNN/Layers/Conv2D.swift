/// A real-valued 2-D convolution over N×H×W×C input with O×kH×kW×C weights (saved as PyTorch's
/// O×C×kH×kW), symmetric zero padding and an optional bias.
///
/// Weights are initialised Kaiming-normal (fan-in), the bias uniform in ±1/√fan-in.
public final class Conv2D: TensorLayer, PrecisionSelectable {
    /// The kernel, O×kH×kW×C.
    public let weight: Parameter
    /// The bias, O elements, when enabled.
    public let bias: Parameter?
    /// Input channels C.
    public let inputChannels: Int
    /// Output channels O.
    public let outputChannels: Int
    /// Square kernel size.
    public let kernelSize: Int
    /// Stride in both directions.
    public let stride: Int
    /// Zero padding on every side.
    public let padding: Int
    /// Whether ``backward(_:)`` computes the gradient with respect to the input (default true).
    ///
    /// Set it to false on a network's first layer, whose input — the images — is not trained: the
    /// backward pass then skips that convolution (as large as the forward pass for a 7×7 stem) and
    /// returns zeros, as PyTorch computes no gradient for an input that does not require one.
    public var computesInputGradient = true

    /// The operand precision of this layer's products in each pass (default fp32).
    public var precision = PrecisionPolicy.fp32

    private var recordedInput: Tensor?

    /// Creates a convolution layer.
    public init(inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = false) {
        precondition(inputChannels > 0 && outputChannels > 0 && kernelSize > 0 && stride > 0 && padding >= 0,
                     "Conv2D: invalid configuration")
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        let fanIn = inputChannels * kernelSize * kernelSize
        weight = Parameter(Initializer.kaimingNormal(shape: [outputChannels, kernelSize, kernelSize, inputChannels], fanIn: fanIn),
                           kind: .real, layout: .convolutionOHWI)
        self.bias = bias ? Parameter(Initializer.fanInUniform(shape: [outputChannels], fanIn: fanIn), kind: .real) : nil
    }

    /// `weight` and, when present, `bias`.
    public var ownParameters: [(name: String, parameter: Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    /// E.g. `Conv2D(3→64, 7×7, stride 2, padding 3)`.
    public var summaryDescription: String {
        "Conv2D(\(inputChannels)→\(outputChannels), \(kernelSize)×\(kernelSize), stride \(stride), padding \(padding))"
    }

    /// The geometry of this layer for an N×H×W×C input shape.
    public func geometry(forInputShape shape: [Int]) -> ConvolutionGeometry {
        ConvolutionGeometry(layer: "Conv2D", inputShape: shape, inputChannels: inputChannels,
                            outputChannels: outputChannels, kernelSize: kernelSize, stride: stride, padding: padding)
    }

    /// N×OH×OW×O.
    public func outputShape(forInputShape shape: [Int]) -> [Int] { geometry(forInputShape: shape).outputShape }

    /// N·OH·OW·O·kH·kW·C real MACs.
    public func multiplyAccumulates(forInputShape shape: [Int]) -> (binary: Int, real: Int) {
        (0, geometry(forInputShape: shape).macs)
    }

    /// Convolves `input` (N×H×W×C) into N×OH×OW×O.
    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        let g = geometry(forInputShape: input.shape)
        recordedInput = mode.recordsForBackward ? input : nil
        var output = Tensor(shape: g.outputShape) { out in
            input.withUnsafeBufferPointer { x in
                weight.value.withUnsafeBufferPointer { w in
                    Convolution.forward(input: x.baseAddress!, weight: w.baseAddress!, output: out.baseAddress!, geometry: g,
                                        precision: precision.forward)
                }
            }
        }
        if let bias { output.addChannelVector(bias.value.scalars) }
        return output
    }

    /// Accumulates weight and bias gradients and returns the input gradient (zeros when
    /// ``computesInputGradient`` is false).
    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard let input = recordedInput else { preconditionFailure("Conv2D.backward without a recording forward pass") }
        let g = geometry(forInputShape: input.shape)
        precondition(outputGradient.shape == g.outputShape, "Conv2D.backward: gradient shape \(outputGradient.shape)")
        input.withUnsafeBufferPointer { x in
            outputGradient.withUnsafeBufferPointer { dy in
                weight.gradient.withUnsafeMutableBufferPointer { dw in
                    Convolution.backwardWeight(input: x.baseAddress!, outputGradient: dy.baseAddress!,
                                               weightGradient: dw.baseAddress!, geometry: g, precision: precision.backward)
                }
            }
        }
        if let bias { bias.accumulateGradient(Tensor(shape: [outputChannels], scalars: outputGradient.sumPerChannel())) }
        guard computesInputGradient else { return Tensor(zeros: g.inputShape) }
        return Tensor(shape: g.inputShape) { dx in
            outputGradient.withUnsafeBufferPointer { dy in
                weight.value.withUnsafeBufferPointer { w in
                    Convolution.backwardInput(outputGradient: dy.baseAddress!, weight: w.baseAddress!,
                                              inputGradient: dx.baseAddress!, geometry: g, precision: precision.backward)
                }
            }
        }
    }
}
