/// The binarised input of a ``BinaryConv2D`` as its backward pass keeps it for the weight gradient:
/// the bit-packed signs its XNOR forward pass made (1 bit per value instead of a 32-bit float), or
/// the float tensor when the layer ran its float path (a sign was 0, grouped convolution, or no
/// input quantizer).
///
/// Packed signs are kept only when exact (no value was 0), so ``valuesForWeightGradient(geometry:)`` gives back the forward
/// pass's binarised tensor element for element and the gradients stay bit-identical.
enum SavedBinaryInput {
    /// Exact ±1 signs, packed along channels.
    case signs(PackedActivations)
    /// The binarised input itself.
    case floats(Tensor)

    /// N×H×W×C.
    var shape: [Int] {
        switch self {
        case .signs(let packed): packed.shape
        case .floats(let tensor): tensor.shape
        }
    }

    /// The binarised input as floats for the weight gradient of a convolution of geometry `g`, and the
    /// geometry to compute it with: the tensor itself with `g`, or the signs expanded to ±1 and
    /// zero-padded in the same pass, with `g` on the padded size and no padding (the same
    /// convolution, whose weight gradient then reads the input without a padded copy). The expanded
    /// tensor lives only while the layer's weight gradient is computed.
    func valuesForWeightGradient(geometry g: ConvolutionGeometry) -> (values: Tensor, geometry: ConvolutionGeometry) {
        switch self {
        case .floats(let tensor):
            return (tensor, g)
        case .signs(let packed):
            let padded = ConvolutionGeometry(
                batch: g.batch, inputHeight: g.inputHeight + 2 * g.padding, inputWidth: g.inputWidth + 2 * g.padding,
                inputChannels: g.inputChannels, outputChannels: g.outputChannels, kernelHeight: g.kernelHeight,
                kernelWidth: g.kernelWidth, stride: g.stride, padding: 0)
            return (packed.unpacked(padding: g.padding), padded)
        }
    }

    /// `∂loss/∂weight` (O×kH×kW×(C/groups)) of a convolution of geometry `g` with this binarised
    /// input, from the N×OH×OW×O `outputGradient`, in `precision`. Packed signs in bfloat16 (one group,
    /// the paired path of ``Convolution``) go straight from the bits to the kernel's operand; otherwise
    /// the values of ``valuesForWeightGradient(geometry:)`` go through ``GroupedConvolution``.
    func weightGradient(outputGradient: Tensor, geometry g: ConvolutionGeometry, groups: Int,
                        precision: ComputePrecision) -> Tensor {
        if case .signs(let packed) = self, precision == .bf16, groups == 1, Convolution.pairsWeightGradientInput(g) {
            var gradient = Tensor(zeros: [g.outputChannels, g.kernelHeight, g.kernelWidth, g.inputChannels])
            outputGradient.withUnsafeBufferPointer { dy in
                gradient.withUnsafeMutableBufferPointer { dw in
                    Convolution.backwardWeightBF16(signs: packed, outputGradient: dy.baseAddress!,
                                                   weightGradient: dw.baseAddress!, geometry: g)
                }
            }
            return gradient
        }
        let (values, geometry) = valuesForWeightGradient(geometry: g)
        return GroupedConvolution.backwardWeight(input: values, outputGradient: outputGradient, geometry: geometry,
                                                 groups: groups, precision: precision)
    }
}
