import BNNKernels

/// The signs of O×kH×kW×C convolution weights bit-packed for ``BinaryConvolution``, with their
/// scale α = mean |W| per output channel.
///
/// Layout (the register tile of the kernels): output channels in blocks of 8; block `b` holds
/// K = kH·kW·⌈C/64⌉ rows of 8 words, word `k = tap·⌈C/64⌉ + j` of output channel `o` at
/// `((o/8)·K + k)·8 + o%8`; channels past O are zero. Bit convention as in ``PackedActivations``
/// (set bit = −1). ``tapPopcounts`` holds the number of −1 signs of every (tap, output channel),
/// the exact correction for taps that fall into the zero padding.
///
/// A weight whose sign is 0 in the float model (exactly ±0; NaN, which `sign` maps to 0, too) is
/// packed as +1 and marked in ``zeroMask``; the kernels subtract its share (Σ sign(x) over the zero
/// taps), so the packed convolution equals the float one for every weight.
public struct PackedWeights: Sendable, Equatable {
    /// Output channels O.
    public let outputChannels: Int
    /// Kernel height kH.
    public let kernelHeight: Int
    /// Kernel width kW.
    public let kernelWidth: Int
    /// Input channels C.
    public let inputChannels: Int
    /// The blocked sign words (see the type's documentation).
    public let words: [UInt64]
    /// kH·kW × ⌈O/8⌉·8 counts of −1 signs per (tap, output channel).
    public let tapPopcounts: [Int32]
    /// α[o] = mean |W[o, :, :, :]|, the per-output-channel scale of Bi-Real Net's binary convolution.
    public let alpha: [Float]
    /// How many weights have sign 0 in the float model (±0 or NaN): packed as +1 and corrected
    /// exactly through ``zeroMask``.
    public let zeroCount: Int
    /// Where the weights of sign 0 are: O×kH×kW×⌈C/64⌉ words, row-major (the layout of
    /// ``signWords(of:)``), bit `c % 64` of word `c / 64` set for channel `c`; empty when ``zeroCount`` is 0.
    public let zeroMask: [UInt64]

    /// Words per tap: ⌈C/64⌉.
    public var wordsPerTap: Int { binaryWordCount(channels: inputChannels) }
    /// The weight shape O×kH×kW×C.
    public var shape: [Int] { [outputChannels, kernelHeight, kernelWidth, inputChannels] }
    /// Bytes of the packed signs proper, O·kH·kW·⌈C/64⌉·8 (the 8-channel block padding excluded).
    public var packedByteCount: Int { outputChannels * kernelHeight * kernelWidth * wordsPerTap * 8 }
    /// Bytes of the same weights as 32-bit floats, O·kH·kW·C·4.
    public var floatByteCount: Int { outputChannels * kernelHeight * kernelWidth * inputChannels * 4 }

    /// Packs latent weights W, O×kH×kW×C (the layout of ``ConvolutionGeometry`` and `Conv2D`).
    ///
    /// - Throws: ``BinaryKernelError/shapeMismatch(tensor:expected:found:)`` when `weights` is not
    ///   rank 4 or has an empty dimension.
    public init(packing weights: Tensor) throws {
        guard weights.rank == 4, weights.shape.allSatisfy({ $0 > 0 }) else {
            throw BinaryKernelError.shapeMismatch(tensor: "weights", expected: "O×kH×kW×C with every size ≥ 1",
                                                  found: weights.shape)
        }
        let s = weights.shape
        let (o, taps, c) = (s[0], s[1] * s[2], s[3])
        let padded = (o + 7) / 8 * 8
        var words = [UInt64](repeating: 0, count: padded * taps * binaryWordCount(channels: c))
        var popcounts = [Int32](repeating: 0, count: padded * taps)
        var alpha = [Float](repeating: 0, count: o)
        let unrepresentable = weights.withUnsafeBufferPointer { w in
            words.withUnsafeMutableBufferPointer { blocked in
                popcounts.withUnsafeMutableBufferPointer { counts in
                    alpha.withUnsafeMutableBufferPointer { a in
                        bnn_binary_pack_weights(w.baseAddress!, Int64(o), Int64(taps), Int64(c), blocked.baseAddress!,
                                                counts.baseAddress!, a.baseAddress!)
                    }
                }
            }
        }
        outputChannels = o
        kernelHeight = s[1]
        kernelWidth = s[2]
        inputChannels = c
        self.words = words
        tapPopcounts = popcounts
        self.alpha = alpha
        zeroCount = Int(unrepresentable)
        zeroMask = zeroCount == 0 ? [] : Self.zeroMask(of: weights, rows: o * taps, channels: c)
    }

    /// The signs of latent weights W (O×kH×kW×C) as row-major words, O×kH×kW×⌈C/64⌉ (the layout of
    /// ``PreparedBinaryConvolution/init(signs:zeroMask:outputChannels:inputChannels:kernelHeight:kernelWidth:stride:padding:transform:variant:)``
    /// and of a stored model), with the mask of the weights of sign 0 (nil when there are none).
    ///
    /// - Throws: ``BinaryKernelError/shapeMismatch(tensor:expected:found:)`` when `weights` is not
    ///   rank 4 or has an empty dimension.
    public static func signWords(of weights: Tensor) throws -> (signs: [UInt64], zeroMask: [UInt64]?) {
        guard weights.rank == 4, weights.shape.allSatisfy({ $0 > 0 }) else {
            throw BinaryKernelError.shapeMismatch(tensor: "weights", expected: "O×kH×kW×C with every size ≥ 1",
                                                  found: weights.shape)
        }
        let (rows, c) = (weights.shape[0] * weights.shape[1] * weights.shape[2], weights.shape[3])
        var signs = [UInt64](repeating: 0, count: rows * binaryWordCount(channels: c))
        let zeros = weights.withUnsafeBufferPointer { w in
            signs.withUnsafeMutableBufferPointer { out in
                bnn_binary_pack_signs(w.baseAddress!, Int64(rows), Int64(c), out.baseAddress!)
            }
        }
        return (signs, zeros == 0 ? nil : zeroMask(of: weights, rows: rows, channels: c))
    }

    /// `bnn_binary_zero_mask` of `rows` rows of `channels` values.
    private static func zeroMask(of weights: Tensor, rows: Int, channels: Int) -> [UInt64] {
        var mask = [UInt64](repeating: 0, count: rows * binaryWordCount(channels: channels))
        weights.withUnsafeBufferPointer { w in
            mask.withUnsafeMutableBufferPointer { m in
                _ = bnn_binary_zero_mask(w.baseAddress!, Int64(rows), Int64(channels), m.baseAddress!)
            }
        }
        return mask
    }
}
