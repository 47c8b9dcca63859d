/// The weight gradient of a convolution whose binarised input is kept as packed signs, the form in
/// which ``BinaryConv2D`` keeps it for its backward pass.
extension PackedActivations {
    /// `∂loss/∂weight` (O×kH×kW×(C/groups)) of a convolution whose binarised input these signs are,
    /// from the N×OH×OW×O `outputGradient`, in `precision`; `g` describes one group, as in
    /// ``GroupedConvolution`` (C/groups input and O/groups output channels).
    ///
    /// In bfloat16 with one group (up to 256 input channels) the paired operand of the kernel is made
    /// straight from the bits (`bnn_bconv_pair_signs`); otherwise the signs are expanded to ±1 floats
    /// with their zero border of `g.padding` in one pass, and the weight gradient of the same
    /// convolution without padding reads them in place (``GroupedConvolution``). Both give the
    /// weight gradient of the ±1 tensor the bits stand for.
    ///
    /// - Precondition: the signs are N×H×W×(`groups`·C of `g`) and `outputGradient` is
    ///   N×OH×OW×(`groups`·O of `g`) (programmer errors).
    public func convolutionWeightGradient(outputGradient: Tensor, geometry g: ConvolutionGeometry, groups: Int = 1,
                                          precision: ComputePrecision = .fp32) -> Tensor {
        precondition(groups >= 1 && shape == [g.batch, g.inputHeight, g.inputWidth, groups * g.inputChannels]
                     && outputGradient.shape == [g.batch, g.outputHeight, g.outputWidth, groups * g.outputChannels],
                     "PackedActivations.convolutionWeightGradient: signs \(shape), gradient \(outputGradient.shape) for \(groups) group(s) of \(g)")
        if precision == .bf16, groups == 1, margin >= g.padding, Convolution.pairsWeightGradientInput(g) {
            var gradient = Tensor(zeros: [g.outputChannels, g.kernelHeight, g.kernelWidth, g.inputChannels])
            outputGradient.withUnsafeBufferPointer { dy in
                gradient.withUnsafeMutableBufferPointer { dw in
                    Convolution.backwardWeightBF16(signs: self, outputGradient: dy.baseAddress!,
                                                   weightGradient: dw.baseAddress!, geometry: g)
                }
            }
            return gradient
        }
        let padded = ConvolutionGeometry(
            batch: g.batch, inputHeight: g.inputHeight + 2 * g.padding, inputWidth: g.inputWidth + 2 * g.padding,
            inputChannels: g.inputChannels, outputChannels: g.outputChannels, kernelHeight: g.kernelHeight,
            kernelWidth: g.kernelWidth, stride: g.stride, padding: 0)
        return GroupedConvolution.backwardWeight(input: unpacked(padding: g.padding), outputGradient: outputGradient,
                                                 geometry: padded, groups: groups, precision: precision)
    }
}
