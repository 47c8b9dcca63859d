/// Grouped and depthwise 2-D convolution on N×H×W×C tensors (PyTorch's `groups`): the C input and O
/// output channels are split into `groups` equal parts and part `k` of the output sees only part `k`
/// of the input, through weights O×kH×kW×(C/groups).
///
/// One group is the ordinary ``Convolution``. Depthwise layers (one input and one output channel per
/// group) run a direct loop whose innermost axis is the channels, contiguous in channels-last data;
/// other groupings convolve each group's channel slice with the ``Convolution`` kernels. `geometry`
/// describes one group (its `inputChannels` is C/groups, its `outputChannels` O/groups). `precision`
/// chooses the operands of the ``Convolution`` products (the depthwise loop is always fp32).
public enum GroupedConvolution {
    /// `conv(input, weight)` for N×H×W×C `input` and O×kH×kW×(C/groups) `weight`: N×OH×OW×O.
    public static func forward(input: Tensor, weight: Tensor, geometry g: ConvolutionGeometry, groups: Int,
                               precision: ComputePrecision = .fp32) -> Tensor {
        if groups == 1 {
            return Tensor(shape: g.outputShape) { out in
                input.withUnsafeBufferPointer { x in
                    weight.withUnsafeBufferPointer { w in
                        Convolution.forward(input: x.baseAddress!, weight: w.baseAddress!, output: out.baseAddress!, geometry: g,
                                            precision: precision)
                    }
                }
            }
        }
        if isDepthwise(g) { return Depthwise.forward(input: input, weight: weight, geometry: g, channels: groups) }
        let outputs = (0..<groups).map { k in
            forward(input: input.channelSlice(k * g.inputChannels..<(k + 1) * g.inputChannels),
                    weight: groupWeight(weight, k, g), geometry: g, groups: 1, precision: precision)
        }
        return Tensor(concatenatingChannels: outputs)
    }

    /// `∂loss/∂input` (N×H×W×C) from the N×OH×OW×O `outputGradient` and `weight`.
    public static func backwardInput(outputGradient: Tensor, weight: Tensor, geometry g: ConvolutionGeometry,
                                     groups: Int, precision: ComputePrecision = .fp32) -> Tensor {
        if groups == 1 {
            return Tensor(shape: g.inputShape) { dx in
                outputGradient.withUnsafeBufferPointer { dy in
                    weight.withUnsafeBufferPointer { w in
                        Convolution.backwardInput(outputGradient: dy.baseAddress!, weight: w.baseAddress!,
                                                  inputGradient: dx.baseAddress!, geometry: g, precision: precision)
                    }
                }
            }
        }
        if isDepthwise(g) { return Depthwise.backwardInput(outputGradient: outputGradient, weight: weight, geometry: g, channels: groups) }
        let parts = (0..<groups).map { k in
            backwardInput(outputGradient: outputGradient.channelSlice(k * g.outputChannels..<(k + 1) * g.outputChannels),
                          weight: groupWeight(weight, k, g), geometry: g, groups: 1, precision: precision)
        }
        return Tensor(concatenatingChannels: parts)
    }

    /// `∂loss/∂weight` (O×kH×kW×(C/groups)) from the N×H×W×C `input` and the N×OH×OW×O `outputGradient`.
    public static func backwardWeight(input: Tensor, outputGradient: Tensor, geometry g: ConvolutionGeometry,
                                      groups: Int, precision: ComputePrecision = .fp32) -> Tensor {
        if groups == 1 {
            var gradient = Tensor(zeros: [g.outputChannels, g.kernelHeight, g.kernelWidth, g.inputChannels])
            input.withUnsafeBufferPointer { x in
                outputGradient.withUnsafeBufferPointer { dy in
                    gradient.withUnsafeMutableBufferPointer { dw in
                        Convolution.backwardWeight(input: x.baseAddress!, outputGradient: dy.baseAddress!,
                                                   weightGradient: dw.baseAddress!, geometry: g, precision: precision)
                    }
                }
            }
            return gradient
        }
        if isDepthwise(g) { return Depthwise.backwardWeight(input: input, outputGradient: outputGradient, geometry: g, channels: groups) }
        let parts = (0..<groups).map { k in
            backwardWeight(input: input.channelSlice(k * g.inputChannels..<(k + 1) * g.inputChannels),
                           outputGradient: outputGradient.channelSlice(k * g.outputChannels..<(k + 1) * g.outputChannels),
                           geometry: g, groups: 1, precision: precision).scalars
        }
        return Tensor(shape: [groups * g.outputChannels, g.kernelHeight, g.kernelWidth, g.inputChannels],
                      scalars: parts.flatMap { $0 })
    }

    /// One input and one output channel per group.
    static func isDepthwise(_ g: ConvolutionGeometry) -> Bool { g.inputChannels == 1 && g.outputChannels == 1 }

    /// The weights of group `k`: output rows `k·O/groups ..< (k+1)·O/groups`, contiguous in O×kH×kW×C.
    private static func groupWeight(_ weight: Tensor, _ k: Int, _ g: ConvolutionGeometry) -> Tensor {
        let size = g.weightCount
        return weight.withUnsafeBufferPointer { w in
            Tensor(shape: [g.outputChannels, g.kernelHeight, g.kernelWidth, g.inputChannels],
                   scalars: Array(w[k * size..<(k + 1) * size]))
        }
    }
}
