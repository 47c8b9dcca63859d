/// A real-valued 2-D convolution over N×H×W×C input with O×kH×kW×(C/groups) weights (saved as
/// PyTorch's O×(C/groups)×kH×kW), symmetric zero padding, an optional bias and optional `groups`
/// (grouped and depthwise convolution, see ``GroupedConvolution``).
///
/// Weights are initialised Kaiming-normal (fan-in), the bias uniform in ±1/√fan-in. A
/// ``weightQuantizer`` (such as ``DoReFa``) makes it a quantized layer: the forward pass convolves
/// with the quantized weights and the backward pass takes the weight gradient through the quantizer.
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
    /// Channel groups: input and output channels split into this many parts (1 for a full
    /// convolution, C for depthwise).
    public let groups: Int
    /// Quantizes the weights in the forward pass; `nil` (the default) for float weights.
    public var weightQuantizer: (any Quantizer)?
    /// The operand precision of this layer's products in each pass (default fp32).
    public var precision = PrecisionPolicy.fp32
    /// Whether ``backward(_:)`` computes the gradient with respect to the input (default true).
    ///
    /// Set it to false on a network's first layer, whose input — the images — is not trained: the
    /// backward pass then skips that convolution (as large as the forward pass for a 7×7 stem) and
    /// returns zeros, as PyTorch computes no gradient for an input that does not require one.
    public var computesInputGradient = true

    private var recorded: (input: Tensor, weight: Tensor)?

    /// Creates a convolution layer.
    ///
    /// - Precondition: `groups` divides both channel counts.
    public init(inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = false, groups: Int = 1) {
        precondition(inputChannels > 0 && outputChannels > 0 && kernelSize > 0 && stride > 0 && padding >= 0,
                     "Conv2D: invalid configuration")
        precondition(groups > 0 && inputChannels % groups == 0 && outputChannels % groups == 0,
                     "Conv2D: \(groups) groups do not divide \(inputChannels)→\(outputChannels) channels")
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        self.groups = groups
        let fanIn = inputChannels / groups * kernelSize * kernelSize
        weight = Parameter(Initializer.kaimingNormal(shape: [outputChannels, kernelSize, kernelSize, inputChannels / groups],
                                                     fanIn: fanIn),
                           kind: .real, layout: .convolutionOHWI)
        self.bias = bias ? Parameter(Initializer.fanInUniform(shape: [outputChannels], fanIn: fanIn), kind: .real) : nil
    }

    /// `weight` and, when present, `bias`.
    public var ownParameters: [(name: String, parameter: Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    /// E.g. `Conv2D(3→64, 7×7, stride 2, padding 3)`.
    public var summaryDescription: String {
        "Conv2D(\(inputChannels)→\(outputChannels), \(kernelSize)×\(kernelSize), stride \(stride), padding \(padding)"
            + (groups > 1 ? ", groups \(groups)" : "") + (weightQuantizer.map { ", \($0.name)" } ?? "") + ")"
    }

    /// The geometry of this layer for an N×H×W×C input shape.
    public func geometry(forInputShape shape: [Int]) -> ConvolutionGeometry {
        ConvolutionGeometry(layer: "Conv2D", inputShape: shape, inputChannels: inputChannels,
                            outputChannels: outputChannels, kernelSize: kernelSize, stride: stride, padding: padding)
    }

    /// The geometry of one channel group (the whole layer when ``groups`` is 1).
    public func groupGeometry(forInputShape shape: [Int]) -> ConvolutionGeometry {
        var g = geometry(forInputShape: shape)
        g.inputChannels /= groups
        g.outputChannels /= groups
        return g
    }

    /// N×OH×OW×O.
    public func outputShape(forInputShape shape: [Int]) -> [Int] { geometry(forInputShape: shape).outputShape }

    /// N·OH·OW·O·kH·kW·C/groups real MACs.
    public func multiplyAccumulates(forInputShape shape: [Int]) -> (binary: Int, real: Int) {
        (0, groupGeometry(forInputShape: shape).macs * groups)
    }

    /// Convolves `input` (N×H×W×C) into N×OH×OW×O.
    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        let g = groupGeometry(forInputShape: input.shape)
        let kernel = weightQuantizer?.quantize(weight.value) ?? weight.value
        recorded = mode.recordsForBackward ? (input, kernel) : nil
        var output = GroupedConvolution.forward(input: input, weight: kernel, geometry: g, groups: groups,
                                                precision: precision.forward)
        if let bias { output.addChannelVector(bias.value.scalars) }
        return output
    }

    /// Accumulates weight and bias gradients and returns the input gradient (zeros when
    /// ``computesInputGradient`` is false).
    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard let (input, kernel) = recorded else { preconditionFailure("Conv2D.backward without a recording forward pass") }
        recorded = nil
        let g = groupGeometry(forInputShape: input.shape)
        precondition(outputGradient.shape == geometry(forInputShape: input.shape).outputShape,
                     "Conv2D.backward: gradient shape \(outputGradient.shape)")
        if groups == 1 && weightQuantizer == nil {
            // Accumulate straight into the gradient (no temporary).
            input.withUnsafeBufferPointer { x in
                outputGradient.withUnsafeBufferPointer { dy in
                    weight.gradient.withUnsafeMutableBufferPointer { dw in
                        Convolution.backwardWeight(input: x.baseAddress!, outputGradient: dy.baseAddress!,
                                                   weightGradient: dw.baseAddress!, geometry: g, precision: precision.backward)
                    }
                }
            }
        } else {
            let kernelGradient = GroupedConvolution.backwardWeight(input: input, outputGradient: outputGradient, geometry: g,
                                                                   groups: groups, precision: precision.backward)
            weight.accumulateGradient(weightQuantizer?.backward(input: weight.value, outputGradient: kernelGradient)
                                      ?? kernelGradient)
        }
        if let bias { bias.accumulateGradient(Tensor(shape: [outputChannels], scalars: outputGradient.sumPerChannel())) }
        guard computesInputGradient else { return Tensor(zeros: input.shape) }
        return GroupedConvolution.backwardInput(outputGradient: outputGradient, weight: kernel, geometry: g, groups: groups,
                                                precision: precision.backward)
    }
}
