/// One Bi-Real block of an exported model: the fused binary convolution and, when the stride or the
/// width changes, the real-valued shortcut `AvgPool(stride, ceil mode) → 1×1 convolution` whose
/// BatchNorm is folded into the convolution (scale) and into the binary epilogue's bias (shift).
///
/// Computes `clamp(scale·dot(sign(x), signs) + bias + shortcut(x))`, with `shortcut(x) = x` without
/// a downsample.
public struct PackedBlock: Sendable, Equatable {
    /// The checkpoint prefix of the block, e.g. `layer2.0`.
    public let name: String
    /// The binary convolution with its fused epilogue.
    public let binary: PackedBinaryConvolution
    /// The 1×1 shortcut convolution (no bias: folded into ``binary``), or nil for the identity.
    public let downsample: FoldedConvolution?

    /// Creates a block.
    ///
    /// - Precondition: the downsample, when present, is 1×1 from the binary convolution's input to its
    ///   output channels (programmer error; the file reader checks).
    public init(name: String, binary: PackedBinaryConvolution, downsample: FoldedConvolution?) {
        precondition(downsample.map {
            $0.kernelSize == 1 && $0.inputChannels == binary.inputChannels && $0.outputChannels == binary.outputChannels
        } ?? (binary.inputChannels == binary.outputChannels && binary.stride == 1),
                     "PackedBlock \(name): shortcut does not fit the binary convolution")
        self.name = name
        self.binary = binary
        self.downsample = downsample
    }

    /// The window (and stride) of the shortcut's average pool: the binary convolution's stride.
    public var poolSize: Int { binary.stride }
}
