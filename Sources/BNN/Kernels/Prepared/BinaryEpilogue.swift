/// What a binary convolution's epilogue does beyond its prepared ``BinaryOutputTransform``, chosen
/// per run by whoever fuses work into the kernel (the inference engine does):
///
/// - an activation after the clamp, ReActNet's RPReLU: `v += shift`, `v = v > 0 ? v : slope·v`,
///   `v += bias` (each step left out when nil);
/// - a threshold on the packed signs, the sign of `v + threshold` (ReActNet's RSign, the learnable
///   shift before the next layer's sign);
/// - where the channels go when the convolution writes a slice of a wider tensor (one branch of a
///   concatenation along channels): the pixel strides of the output and packed output, and the
///   packed channel of output channel 0 (the residual stays N×OH×OW×O).
///
/// - optionally, the float output as its 2×2 average pool (stride 2), when the value is only read
///   pooled (ReActNet's shortcut into a reduction block): ``poolsOutput``.
///
/// Each per-channel table holds one value per output channel O.
public struct BinaryEpilogue: Sendable {
    /// Added after the clamp, or nil.
    public var activationShift: AlignedBuffer<Float>?
    /// PReLU slopes applied after the shift, or nil for no PReLU.
    public var activationSlope: AlignedBuffer<Float>?
    /// Added last, or nil.
    public var activationBias: AlignedBuffer<Float>?
    /// Added to the value before its sign is packed (not to the float output), or nil.
    public var packThreshold: AlignedBuffer<Float>?
    /// Floats between consecutive pixels of the output; nil for O.
    public var outputStride: Int?
    /// Words between consecutive pixels of the packed output; nil for ⌈O/64⌉.
    public var packedStride: Int?
    /// The packed channel that output channel 0 goes to, a multiple of 16. At 0 the kernel clears
    /// each output pixel's packed words before setting bits; otherwise it only sets bits, so the
    /// slice at channel 0 must have run first.
    public var packedChannel: Int
    /// Whether the float output is the 2×2 average pool (stride 2, no padding) of the values instead of
    /// them: N×(OH/2)×(OW/2) pixels (at the output stride), each window summed from +0 in row-major
    /// order and multiplied by 0.25, as PyTorch's and the engine's average pool; OH and OW must be
    /// even. The packed signs stay per pixel. The AVX-512 kernel's 1×1 path pools as it goes; the
    /// other cases run the portable kernel.
    public var poolsOutput: Bool

    /// An epilogue that adds nothing to the transform and writes dense N×OH×OW×O tensors.
    public init(activationShift: AlignedBuffer<Float>? = nil, activationSlope: AlignedBuffer<Float>? = nil,
                activationBias: AlignedBuffer<Float>? = nil, packThreshold: AlignedBuffer<Float>? = nil,
                outputStride: Int? = nil, packedStride: Int? = nil, packedChannel: Int = 0, poolsOutput: Bool = false) {
        (self.activationShift, self.activationSlope, self.activationBias) = (activationShift, activationSlope, activationBias)
        (self.packThreshold, self.outputStride) = (packThreshold, outputStride)
        (self.packedStride, self.packedChannel, self.poolsOutput) = (packedStride, packedChannel, poolsOutput)
    }

    /// Whether the epilogue has an activation step.
    public var hasActivation: Bool { activationShift != nil || activationSlope != nil || activationBias != nil }

    /// Checks the tables and layout against a convolution of `outputChannels` channels (programmer errors).
    func check(outputChannels: Int) {
        for table in [activationShift, activationSlope, activationBias, packThreshold] {
            if let table { precondition(table.count == outputChannels, "BinaryEpilogue: a table needs \(outputChannels) values") }
        }
        precondition((outputStride ?? outputChannels) >= outputChannels, "BinaryEpilogue: the output stride is smaller than the channels")
        precondition(packedChannel >= 0 && packedChannel % 16 == 0, "BinaryEpilogue: packedChannel must be a multiple of 16")
        precondition((packedStride ?? binaryWordCount(channels: outputChannels)) * 64 >= packedChannel + outputChannels,
                     "BinaryEpilogue: the packed slice does not fit its pixel's words")
    }
}
