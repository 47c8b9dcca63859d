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
        var mask = ClampMask(shape: input.shape, words: [])
        let output = Tensor(shape: input.shape) { out in
            input.withUnsafeBufferPointer { x in
                mask = masking(count: out.count, shape: input.shape) { start, count, words in
                    bnn_clamp_masked(x.baseAddress! + start, out.baseAddress! + start, words, count, lo, hi)
                }
            }
        }
        return (output, mask)
    }

    /// Replaces `a` by the clamp of `a + b` (equal shapes; each sum rounded to `Float` first, as `a += b`
    /// would) in one pass, and returns the mask of where `lo < a + b < hi`.
    static func clamping(adding b: Tensor, to a: inout Tensor, lo: Float, hi: Float) -> ClampMask {
        precondition(a.shape == b.shape, "Tensor: shapes \(a.shape) and \(b.shape) differ")
        let shape = a.shape
        return b.withUnsafeBufferPointer { pb in
            a.withUnsafeMutableBufferPointer { pa in
                let pa = pa
                return masking(count: pa.count, shape: shape) { start, count, words in
                    bnn_add_clamp_masked(pa.baseAddress! + start, pb.baseAddress! + start, words, count, lo, hi)
                }
            }
        }
    }

    /// The mask of `count` elements of a tensor of `shape`, its words written by
    /// `pass(start, count, words + start/64)` over ranges of whole 64-element words split over the
    /// worker threads.
    private static func masking(count: Int, shape: [Int],
                                _ pass: (Int, Int, UnsafeMutablePointer<UInt64>) -> Void) -> ClampMask {
        let wordCount = (count + 63) / 64
        let words = [UInt64](unsafeUninitializedCapacity: wordCount) { mask, initialized in
            Parallel.forEachChunk(wordCount, minimumChunk: Parallel.elementwiseGrain / 64) { range in
                let start = range.lowerBound * 64, end = min(count, range.upperBound * 64)
                pass(start, end - start, mask.baseAddress! + range.lowerBound)
            }
            initialized = wordCount
        }
        return ClampMask(shape: shape, words: words)
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
