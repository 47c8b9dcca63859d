/// The binarised input of a ``BinaryConv2D`` as its backward pass keeps it for the weight gradient:
/// the bit-packed signs its XNOR forward pass made (1 bit per value instead of a 32-bit float), or
/// the float tensor when the layer ran its float path (a sign was 0, grouped convolution, or no
/// input quantizer).
///
/// Packed signs are kept only when exact (no value was 0), so the weight gradient sees the forward
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

    /// `∂loss/∂weight` (O×kH×kW×(C/groups)) of a convolution of geometry `g` with this binarised
    /// input, from the N×OH×OW×O `outputGradient`, in `precision`: packed signs go through
    /// ``PackedActivations/convolutionWeightGradient(outputGradient:geometry:groups:precision:)``
    /// (in bfloat16 straight from the bits, otherwise expanded to ±1 with their zero border in one
    /// pass), floats through ``GroupedConvolution``.
    func weightGradient(outputGradient: Tensor, geometry g: ConvolutionGeometry, groups: Int,
                        precision: ComputePrecision) -> Tensor {
        switch self {
        case .signs(let packed):
            packed.convolutionWeightGradient(outputGradient: outputGradient, geometry: g, groups: groups,
                                             precision: precision)
        case .floats(let tensor):
            GroupedConvolution.backwardWeight(input: tensor, outputGradient: outputGradient, geometry: g,
                                              groups: groups, precision: precision)
        }
    }
}
