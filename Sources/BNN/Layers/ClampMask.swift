import BNNKernels

/// Where a clamp let its input through, one bit per element: what ``HardTanh`` and ``ReLU`` keep for
/// their backward pass instead of their float input (1 bit per value instead of 32).
///
/// The gradient of `min(max(x, lo), hi)` is the output gradient where `lo < x < hi` and 0 elsewhere,
/// so these bits are all the backward pass needs, and it gives exactly the values that the float input
/// gave.
struct ClampMask {
    /// The shape of the clamped tensor.
    let shape: [Int]
    /// ⌈count/64⌉ words; bit `i % 64` of word `i / 64` is set where element `i` was strictly inside.
    private let words: [UInt64]

    /// `min(max(input, lo), hi)` element-wise, and the mask of where `lo < input < hi`.
    static func clamping(_ input: Tensor, lo: Float, hi: Float) -> (output: Tensor, mask: ClampMask) {
        let count = input.count
        let wordCount = (count + 63) / 64
        var words: [UInt64] = []
        let output = Tensor(shape: input.shape) { out in
            words = [UInt64](unsafeUninitializedCapacity: wordCount) { mask, initialized in
                input.withUnsafeBufferPointer { x in
                    Parallel.forEachChunk(wordCount, minimumChunk: Parallel.elementwiseGrain / 64) { range in
                        let start = range.lowerBound * 64, end = min(count, range.upperBound * 64)
                        bnn_clamp_masked(x.baseAddress! + start, out.baseAddress! + start,
                                         mask.baseAddress! + range.lowerBound, end - start, lo, hi)
                    }
                }
                initialized = wordCount
            }
        }
        return (output, ClampMask(shape: input.shape, words: words))
    }

    /// `gradient` where the clamped input was strictly inside the interval, else 0.
    func select(_ gradient: Tensor) -> Tensor {
        precondition(gradient.shape == shape, "gradient shape \(gradient.shape) != clamped shape \(shape)")
        let count = gradient.count
        return Tensor(shape: shape) { dx in
            gradient.withUnsafeBufferPointer { dy in
                words.withUnsafeBufferPointer { mask in
                    Parallel.forEachChunk(mask.count, minimumChunk: Parallel.elementwiseGrain / 64) { range in
                        let start = range.lowerBound * 64, end = min(count, range.upperBound * 64)
                        bnn_mask_select(dy.baseAddress! + start, mask.baseAddress! + range.lowerBound,
                                        dx.baseAddress! + start, end - start)
                    }
                }
            }
        }
    }
}
