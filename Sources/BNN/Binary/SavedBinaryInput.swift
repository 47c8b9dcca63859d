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
        case .signs(let packed): Self.expand(packed)
        }
    }

    /// −1 for a set bit, +1 for a clear one, N×H×W×C; rows of pixels in parallel.
    private static func expand(_ packed: PackedActivations) -> Tensor {
        let wordsPerPixel = packed.wordsPerPixel, margin = packed.margin
        let height = packed.height, width = packed.width, channels = packed.channels
        let paddedWidth = width + 2 * margin, paddedHeight = height + 2 * margin
        return Tensor(shape: packed.shape) { out in
            packed.words.withUnsafeBufferPointer { words in
                Parallel.forEachRowRange(packed.batch * height, rowLength: width * channels) { rows in
                    for row in rows {
                        let n = row / height, y = row % height
                        var o = row * width * channels
                        for x in 0..<width {
                            let pixel = ((n * paddedHeight + y + margin) * paddedWidth + x + margin) * wordsPerPixel
                            for w in 0..<wordsPerPixel {
                                var bits = words[pixel + w]
                                for _ in 0..<Swift.min(64, channels - 64 * w) {
                                    out[o] = bits & 1 == 1 ? -1 : 1
                                    bits >>= 1
                                    o += 1
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
