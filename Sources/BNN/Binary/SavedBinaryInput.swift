/// The binarised input of a ``BinaryConv2D`` as its backward pass keeps it for the weight gradient:
/// the bit-packed signs its XNOR forward pass made (1 bit per value instead of a 32-bit float), or
/// the float tensor when the layer ran its float path (a sign was 0, grouped convolution, or no
/// input quantizer).
///
/// Packed signs are kept only when exact (no value was 0), so ``values()`` gives back the forward
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

    /// The binarised input as floats: the tensor itself, or the signs expanded to ±1 (a transient
    /// tensor that lives only while the layer's weight gradient is computed).
    func values() -> Tensor {
        switch self {
        case .floats(let tensor): tensor
        case .signs(let packed): packed.unpacked()
        }
    }
}
