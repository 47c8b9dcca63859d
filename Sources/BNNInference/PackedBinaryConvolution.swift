import BNN
import BNNKernels

/// One binary 3×3 convolution of an exported model, frozen: its weight signs packed to one bit and
/// the per-output-channel epilogue `v = scale[o]·dot + bias[o]`, then `+ residual`, then the optional
/// clamp (the HardTanh after the residual add of the reference variant).
///
/// `dot` is the exact integer ±1 dot product over the taps inside the image (zero padding counts 0).
/// `scale` folds Bi-Real Net's α = mean|W| and the following BatchNorm
/// (`α·γ/√(σ²+ε)`); `bias` folds the BatchNorm shift `β − μ·γ/√(σ²+ε)` and, in a downsampling
/// block, the shift of the shortcut's BatchNorm as well.
///
/// ``signs`` layout: O×kH×kW×⌈C/64⌉ 64-bit words, row-major; channel `c` of a tap is bit `c % 64` of
/// word `c / 64`; a set bit is the sign −1 (latent weight < 0), a clear bit +1. Bits past C are clear.
/// A latent weight of exactly 0 (sign 0 in the float model) cannot be represented and is packed as
/// +1; ``BiRealNetExport`` counts such weights.
public struct PackedBinaryConvolution: Sendable, Equatable {
    /// Output channels O.
    public let outputChannels: Int
    /// Input channels C.
    public let inputChannels: Int
    /// Square kernel size k (3 in Bi-Real Net).
    public let kernelSize: Int
    /// Stride in both directions.
    public let stride: Int
    /// Symmetric zero padding.
    public let padding: Int
    /// The packed signs, O·k·k·⌈C/64⌉ words (layout in the type's documentation).
    public let signs: [UInt64]
    /// Multiplier per output channel (O values).
    public let scale: [Float]
    /// Addend per output channel (O values).
    public let bias: [Float]
    /// The clamp applied after the residual add, or nil (paper variant).
    public let clamp: ClosedRange<Float>?

    /// Words per kernel tap: ⌈C/64⌉.
    public var wordsPerTap: Int { binaryWordCount(channels: inputChannels) }
    /// Bytes of the packed signs.
    public var packedByteCount: Int { signs.count * 8 }

    /// Wraps already packed signs.
    ///
    /// - Precondition: `signs` has O·k·k·⌈C/64⌉ words and `scale`, `bias` have O values (the file
    ///   reader checks these before; a violation here is a programmer error).
    public init(outputChannels: Int, inputChannels: Int, kernelSize: Int, stride: Int, padding: Int,
                signs: [UInt64], scale: [Float], bias: [Float], clamp: ClosedRange<Float>?) {
        precondition(outputChannels > 0 && inputChannels > 0 && kernelSize > 0 && stride > 0 && padding >= 0,
                     "PackedBinaryConvolution: invalid geometry")
        precondition(signs.count == outputChannels * kernelSize * kernelSize * binaryWordCount(channels: inputChannels),
                     "PackedBinaryConvolution: \(signs.count) sign words do not fit the geometry")
        precondition(scale.count == outputChannels && bias.count == outputChannels,
                     "PackedBinaryConvolution: scale and bias need \(outputChannels) values")
        self.outputChannels = outputChannels
        self.inputChannels = inputChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        self.signs = signs
        self.scale = scale
        self.bias = bias
        self.clamp = clamp
    }

    /// Packs the signs of latent weights W (O×k×k×C, the layout of `BinaryConv2D.weight`).
    ///
    /// - Returns: the layer and the number of weights that were ±0 or NaN (packed as +1).
    /// - Precondition: `weights` is O×k×k×C with the transform's O values (programmer error).
    public static func packing(_ weights: Tensor, stride: Int, padding: Int,
                               transform: BinaryOutputTransform) -> (layer: PackedBinaryConvolution, zeroWeights: Int) {
        precondition(weights.rank == 4 && weights.shape[1] == weights.shape[2] && weights.count > 0,
                     "PackedBinaryConvolution.packing: weights must be O×k×k×C, found \(weights.shape)")
        let (o, k, c) = (weights.shape[0], weights.shape[1], weights.shape[3])
        let rows = o * k * k
        var words = [UInt64](repeating: 0, count: rows * binaryWordCount(channels: c))
        let zeros = weights.withUnsafeBufferPointer { w in
            words.withUnsafeMutableBufferPointer { out in
                Int(bnn_binary_pack_signs(w.baseAddress!, Int64(rows), Int64(c), out.baseAddress!))
            }
        }
        let layer = PackedBinaryConvolution(outputChannels: o, inputChannels: c, kernelSize: k, stride: stride,
                                            padding: padding, signs: words, scale: transform.scale,
                                            bias: transform.bias ?? [Float](repeating: 0, count: o),
                                            clamp: transform.clamp)
        return (layer, zeros)
    }

    /// Output height or width for an input extent: `(n + 2·padding − k) / stride + 1`.
    public func outputExtent(_ n: Int) -> Int { (n + 2 * padding - kernelSize) / stride + 1 }

    /// The layer ready to run: its signs blocked for the kernels, its transform in aligned memory,
    /// the kernel variant chosen now.
    public func prepared() -> PreparedBinaryConvolution {
        do {
            return try PreparedBinaryConvolution(signs: signs, outputChannels: outputChannels, inputChannels: inputChannels,
                                                 kernelHeight: kernelSize, kernelWidth: kernelSize, stride: stride,
                                                 padding: padding,
                                                 transform: BinaryOutputTransform(scale: scale, bias: bias, clamp: clamp))
        } catch {
            // The initialiser's preconditions already checked every size, so this is a programmer error.
            preconditionFailure("PackedBinaryConvolution.prepared: \(error)")
        }
    }
}
