import BNNKernels

/// The signs of N×H×W×C activations bit-packed along channels, the input of
/// ``BinaryConvolution``.
///
/// Each pixel holds ``wordsPerPixel`` = ⌈C/64⌉ words; channel `c` is bit `c % 64` of word `c / 64`,
/// a set bit stands for −1 (value < 0) and a clear bit for +1. Bits past the true channel count are
/// clear and never count. The pixels may be surrounded by a zero border of ``margin`` pixels
/// (words `N×(H+2m)×(W+2m)×wordsPerPixel`), so a convolution with padding ≤ `margin` reads them
/// without a copy; the border holds no data, the kernels correct for it exactly.
///
/// A bit cannot represent sign(0) = 0 of the float model: ``unrepresentableCount`` tells how many
/// values were ±0 (or NaN) and were packed as +1. When it is not zero the packed signs differ from
/// the float model and a training layer should take its float path instead.
public struct PackedActivations: Sendable, Equatable {
    /// Batch size N.
    public let batch: Int
    /// Height H in pixels (without the margin).
    public let height: Int
    /// Width W in pixels (without the margin).
    public let width: Int
    /// The true channel count C.
    public let channels: Int
    /// The zero border around every image, in pixels.
    public let margin: Int
    /// The packed words, N×(H+2·margin)×(W+2·margin)×``wordsPerPixel``.
    public internal(set) var words: [UInt64]
    /// How many packed values were ±0 or NaN (packed as +1, whereas the float model has sign 0).
    public let unrepresentableCount: Int

    /// Words per pixel: ⌈C/64⌉.
    @inlinable public var wordsPerPixel: Int { binaryWordCount(channels: channels) }
    /// Whether every packed value was strictly positive or negative, so the bits equal the float signs.
    @inlinable public var isExact: Bool { unrepresentableCount == 0 }
    /// The logical shape N×H×W×C.
    public var shape: [Int] { [batch, height, width, channels] }

    /// Packs the signs of an N×H×W×C tensor.
    ///
    /// - Parameters:
    ///   - input: activations, N×H×W×C channels-last.
    ///   - margin: zero border to leave around each image; use the padding of the convolution that
    ///     will read the result to spare it a copy.
    /// - Throws: ``BinaryKernelError/shapeMismatch(tensor:expected:found:)`` when `input` is not rank 4,
    ///   ``BinaryKernelError/invalidSetting(setting:expected:found:)`` for a negative margin.
    public init(packing input: Tensor, margin: Int = 0) throws {
        guard input.rank == 4 else {
            throw BinaryKernelError.shapeMismatch(tensor: "input", expected: "N×H×W×C (rank 4)", found: input.shape)
        }
        guard margin >= 0 else {
            throw BinaryKernelError.invalidSetting(setting: "margin", expected: "≥ 0", found: margin)
        }
        let s = input.shape
        self = input.withUnsafeBufferPointer { buffer in
            guard let values = buffer.baseAddress else {
                // No values (an empty dimension): only the zero border, if any.
                let words = [UInt64](repeating: 0, count: s[0] * (s[1] + 2 * margin) * (s[2] + 2 * margin)
                                                        * binaryWordCount(channels: s[3]))
                return PackedActivations(batch: s[0], height: s[1], width: s[2], channels: s[3], margin: margin,
                                         words: words, unrepresentableCount: 0)
            }
            return PackedActivations(packing: values, batch: s[0], height: s[1], width: s[2], channels: s[3],
                                     margin: margin)
        }
    }

    /// Packs the signs of N×H×W×C floats at `values` (row-major, channels-last); see ``init(packing:margin:)``.
    ///
    /// - Precondition: all sizes ≥ 0 (programmer error otherwise).
    public init(packing values: UnsafePointer<Float>, batch: Int, height: Int, width: Int, channels: Int,
                margin: Int = 0) {
        precondition(batch >= 0 && height >= 0 && width >= 0 && channels >= 0 && margin >= 0,
                     "PackedActivations: negative size")
        let wpp = binaryWordCount(channels: channels)
        let paddedWidth = width + 2 * margin, paddedHeight = height + 2 * margin
        var words = [UInt64](repeating: 0, count: batch * paddedHeight * paddedWidth * wpp)
        let rows = batch * height
        let unrepresentable = ParallelCounter()
        words.withUnsafeMutableBufferPointer { out in
            let base = out.baseAddress!
            if margin == 0 {
                // Rows are contiguous: pack pixels in large flat chunks.
                Parallel.forEachRowRange(rows * width, rowLength: channels) { pixels in
                    unrepresentable.add(Int(bnn_binary_pack_signs(values + pixels.lowerBound * channels,
                                                                  Int64(pixels.count), Int64(channels),
                                                                  base + pixels.lowerBound * wpp)))
                }
            } else {
                Parallel.forEachRowRange(rows, rowLength: width * channels) { chunk in
                    var count = 0
                    for row in chunk {
                        let n = row / height, y = row % height
                        let destination = base + ((n * paddedHeight + y + margin) * paddedWidth + margin) * wpp
                        count += Int(bnn_binary_pack_signs(values + row * width * channels, Int64(width),
                                                           Int64(channels), destination))
                    }
                    unrepresentable.add(count)
                }
            }
        }
        self.init(batch: batch, height: height, width: width, channels: channels, margin: margin, words: words,
                  unrepresentableCount: unrepresentable.value)
    }

    /// Wraps already packed words (layout as documented on the type).
    ///
    /// - Precondition: `words.count == batch·(height+2·margin)·(width+2·margin)·⌈channels/64⌉`.
    public init(batch: Int, height: Int, width: Int, channels: Int, margin: Int, words: [UInt64],
                unrepresentableCount: Int) {
        precondition(words.count == batch * (height + 2 * margin) * (width + 2 * margin) * (binaryWordCount(channels: channels)),
                     "PackedActivations: \(words.count) words do not fit \(batch)×\(height)×\(width)×\(channels) with margin \(margin)")
        self.batch = batch
        self.height = height
        self.width = width
        self.channels = channels
        self.margin = margin
        self.words = words
        self.unrepresentableCount = unrepresentableCount
    }

    /// The same signs with a different zero border (a copy; `self` when the margin is already `newMargin`).
    public func withMargin(_ newMargin: Int) -> PackedActivations {
        precondition(newMargin >= 0, "PackedActivations: negative margin")
        if newMargin == margin { return self }
        let count = batch * (height + 2 * newMargin) * (width + 2 * newMargin) * wordsPerPixel
        let copied = [UInt64](unsafeUninitializedCapacity: count) { out, initialized in
            words.withUnsafeBufferPointer { source in
                bnn_binary_remargin(source.baseAddress!, Int64(batch), Int64(height), Int64(width), Int64(wordsPerPixel),
                                    Int64(margin), Int64(newMargin), out.baseAddress!)
            }
            initialized = count
        }
        return PackedActivations(batch: batch, height: height, width: width, channels: channels, margin: newMargin,
                                 words: copied, unrepresentableCount: unrepresentableCount)
    }

    /// The ±1 values the bits stand for, as an N×(H+2p)×(W+2p)×C tensor with `padding` = p zero pixels
    /// around every image (−1 for a set bit, +1 for a clear one): the input of a convolution's weight
    /// gradient, padded in the same pass so that the gradient reads it without a copy.
    public func unpacked(padding: Int = 0) -> Tensor {
        precondition(padding >= 0, "PackedActivations: negative padding")
        let wpp = wordsPerPixel, pw = width + 2 * margin, ph = height + 2 * margin
        let (height, width, channels) = (height, width, channels)
        let outWidth = width + 2 * padding, outHeight = height + 2 * padding
        let rowLength = outWidth * channels
        return Tensor(shape: [batch, outHeight, outWidth, channels]) { out in
            words.withUnsafeBufferPointer { words in
                // Rows of pixels in parallel: the backward pass of BinaryConv2D expands whole layers.
                Parallel.forEachRowRange(batch * outHeight, rowLength: rowLength) { rows in
                    for row in rows {
                        let n = row / outHeight, y = row % outHeight - padding
                        var i = row * rowLength
                        guard y >= 0 && y < height else {
                            (out.baseAddress! + i).update(repeating: 0, count: rowLength)
                            continue
                        }
                        (out.baseAddress! + i).update(repeating: 0, count: padding * channels)
                        i += padding * channels
                        bnn_unpack_signs(words.baseAddress! + ((n * ph + y + margin) * pw + margin) * wpp, width, channels,
                                         out.baseAddress! + i)
                        i += width * channels
                        (out.baseAddress! + i).update(repeating: 0, count: padding * channels)
                    }
                }
            }
        }
    }
}
