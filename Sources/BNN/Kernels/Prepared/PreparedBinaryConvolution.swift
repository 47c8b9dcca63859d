import BNNKernels

/// A binary (XNOR-popcount) convolution prepared once and run many times: the weight signs in the
/// kernels' blocked layout (blocks of 8 output channels, see ``PackedWeights``), the tap popcounts of
/// the exact zero-padding correction, the fused output transform (scale, bias, clamp) in 64-byte
/// aligned memory, and the kernel variant, chosen when prepared.
///
/// Every binary convolution of the package runs through one of these: ``BinaryConvolution`` (and
/// so ``BinaryConv2D``'s training forward pass), the inference engine, `bnn-bench` and the kernel
/// tests. ``run(input:inputMargin:batch:height:width:residual:output:packedOutput:outputMargin:dots:epilogue:rows:)``
/// fills the C parameters and splits the output rows over the worker pool.
///
/// Per output channel `o` the float output is `v = scale[o]·dot + bias[o]` (multiply, then add), then
/// `v += residual`, then the clamp, then any activation of the run's ``BinaryEpilogue``; `dot` is the exact dot product of the signs over the taps inside
/// the image. Weights of sign 0 (exact zeros of the float model) count 0: the output channels that
/// have any keep a mask of them, and every kernel variant subtracts their share, Σ sign(x) over the
/// zero taps (`bnn_binary_zero_correct`); channels without zeros, and layers without any, run the
/// kernels unchanged.
public final class PreparedBinaryConvolution: @unchecked Sendable {
    /// Output channels O.
    public let outputChannels: Int
    /// Input channels C.
    public let inputChannels: Int
    /// Kernel height kH.
    public let kernelHeight: Int
    /// Kernel width kW.
    public let kernelWidth: Int
    /// Stride in both directions (≥ 1).
    public let stride: Int
    /// Symmetric zero padding (≥ 0).
    public let padding: Int
    /// The range the output is clamped to after the residual add, or nil.
    public let clamp: ClosedRange<Float>?
    /// The kernel every run calls.
    public let variant: BinaryKernelVariant
    /// How many output channels have a weight of sign 0 (and pay for its correction).
    public var zeroWeightChannels: Int { zeroTables?.channels.count ?? 0 }
    private let blocked: AlignedBuffer<UInt64>
    private let tapPopcounts: AlignedBuffer<Int32>
    private let scale: AlignedBuffer<Float>?
    private let bias: AlignedBuffer<Float>?
    /// The `zero_*` tables of `bnn_binary_conv_params`, nil when no weight has sign 0.
    private let zeroTables: (blocks: AlignedBuffer<Int32>, channels: AlignedBuffer<Int32>, masks: AlignedBuffer<UInt64>)?

    /// Prepares packed weights with their output transform.
    ///
    /// - Parameters:
    ///   - weights: packed O×kH×kW×C signs (already blocked; copied into aligned memory).
    ///   - stride: stride in both directions.
    ///   - padding: symmetric zero padding.
    ///   - transform: O scales (and biases), or nil for a convolution that only writes raw dots.
    ///   - variant: the kernel to call; ``BinaryKernelVariant/selected`` by default.
    /// - Throws: ``BinaryKernelError`` when stride < 1, padding < 0, the transform does not have O
    ///   values, or `variant` cannot run on this CPU.
    public convenience init(weights: PackedWeights, stride: Int, padding: Int, transform: BinaryOutputTransform?,
                            variant: BinaryKernelVariant = .selected) throws {
        try Self.validate(outputChannels: weights.outputChannels, stride: stride, padding: padding,
                          transform: transform, variant: variant)
        self.init(validated: weights, stride: stride, padding: padding, transform: transform, variant: variant)
    }

    /// ``init(weights:stride:padding:transform:variant:)`` for arguments already checked.
    init(validated weights: PackedWeights, stride: Int, padding: Int, transform: BinaryOutputTransform?,
         variant: BinaryKernelVariant) {
        (outputChannels, inputChannels) = (weights.outputChannels, weights.inputChannels)
        (kernelHeight, kernelWidth) = (weights.kernelHeight, weights.kernelWidth)
        (self.stride, self.padding, self.variant) = (stride, padding, variant)
        blocked = AlignedBuffer(weights.words)
        tapPopcounts = AlignedBuffer(weights.tapPopcounts)
        zeroTables = Self.zeroTables(mask: weights.zeroMask, outputChannels: outputChannels,
                                     taps: kernelHeight * kernelWidth, words: weights.wordsPerTap)
        scale = transform.map { AlignedBuffer($0.scale) }
        bias = transform?.bias.map { AlignedBuffer($0) }
        clamp = transform?.clamp
    }

    /// Prepares signs stored row-major, O×kH×kW×⌈C/64⌉ words (the layout of `bnn_binary_pack_signs`
    /// and of a `.bnnpack` file), blocking them and counting the tap popcounts in C.
    ///
    /// - Parameters:
    ///   - signs: O·kH·kW·⌈C/64⌉ words; bit `c % 64` of word `c / 64` is channel `c`, set = −1.
    ///   - zeroMask: the weights of sign 0 in the same layout (set bit = 0, its sign bit clear), as
    ///     ``PackedWeights/signWords(of:)`` returns it; nil (or all clear) when there are none.
    ///   - outputChannels: O (≥ 1).
    ///   - inputChannels: C (≥ 1).
    ///   - kernelHeight: kH (≥ 1).
    ///   - kernelWidth: kW (≥ 1).
    ///   - stride: stride in both directions.
    ///   - padding: symmetric zero padding.
    ///   - transform: O scales (and biases), or nil for raw dots only.
    ///   - variant: the kernel to call; ``BinaryKernelVariant/selected`` by default.
    /// - Throws: ``BinaryKernelError`` when a size is not positive, `signs` or `zeroMask` has the
    ///   wrong length, a weight is marked 0 and −1 at once, or as ``init(weights:stride:padding:transform:variant:)``.
    public init(signs: [UInt64], zeroMask: [UInt64]? = nil, outputChannels: Int, inputChannels: Int, kernelHeight: Int, kernelWidth: Int,
                stride: Int, padding: Int, transform: BinaryOutputTransform?,
                variant: BinaryKernelVariant = .selected) throws {
        guard outputChannels > 0, inputChannels > 0, kernelHeight > 0, kernelWidth > 0 else {
            throw BinaryKernelError.shapeMismatch(tensor: "weights", expected: "O×kH×kW×C with every size ≥ 1",
                                                  found: [outputChannels, kernelHeight, kernelWidth, inputChannels])
        }
        let (taps, words) = (kernelHeight * kernelWidth, binaryWordCount(channels: inputChannels))
        guard signs.count == outputChannels * taps * words else {
            throw BinaryKernelError.shapeMismatch(tensor: "signs", expected: "[\(outputChannels * taps * words)] words",
                                                  found: [signs.count])
        }
        if let zeroMask {
            guard zeroMask.count == signs.count else {
                throw BinaryKernelError.shapeMismatch(tensor: "zeroMask", expected: "[\(signs.count)] words",
                                                      found: [zeroMask.count])
            }
            guard zip(signs, zeroMask).allSatisfy({ $0 & $1 == 0 }) else {
                throw BinaryKernelError.invalidSetting(setting: "zeroMask", expected: "no bit set where the sign is −1",
                                                       found: zip(signs, zeroMask).filter { $0 & $1 != 0 }.count)
            }
        }
        try Self.validate(outputChannels: outputChannels, stride: stride, padding: padding, transform: transform,
                          variant: variant)
        (self.outputChannels, self.inputChannels) = (outputChannels, inputChannels)
        (self.kernelHeight, self.kernelWidth) = (kernelHeight, kernelWidth)
        (self.stride, self.padding, self.variant) = (stride, padding, variant)
        let padded = Int(bnn_binary_padded_channels(Int64(outputChannels)))
        let blocked = AlignedBuffer<UInt64>(count: padded * taps * words)
        let tapPopcounts = AlignedBuffer<Int32>(count: padded * taps)
        signs.withUnsafeBufferPointer { source in
            bnn_binary_block_signs(source.baseAddress!, Int64(outputChannels), Int64(taps), Int64(words),
                                   blocked.base, tapPopcounts.base)
        }
        (self.blocked, self.tapPopcounts) = (blocked, tapPopcounts)
        zeroTables = Self.zeroTables(mask: zeroMask ?? [], outputChannels: outputChannels, taps: taps, words: words)
        scale = transform.map { AlignedBuffer($0.scale) }
        bias = transform?.bias.map { AlignedBuffer($0) }
        clamp = transform?.clamp
    }

    /// The `zero_*` kernel tables of a row-major zero mask (`bnn_binary_compact_zero_masks`), or nil
    /// when no bit is set (or `mask` is empty).
    private static func zeroTables(mask: [UInt64], outputChannels: Int, taps: Int, words: Int)
        -> (blocks: AlignedBuffer<Int32>, channels: AlignedBuffer<Int32>, masks: AlignedBuffer<UInt64>)? {
        guard mask.contains(where: { $0 != 0 }) else { return nil }
        let kWords = taps * words
        let blocks = AlignedBuffer<Int32>(count: Int(bnn_binary_padded_channels(Int64(outputChannels))) / 8 + 1)
        var channels = [Int32](repeating: 0, count: outputChannels)
        var masks = [UInt64](repeating: 0, count: outputChannels * kWords)
        let entries = Int(mask.withUnsafeBufferPointer { m in
            channels.withUnsafeMutableBufferPointer { c in
                masks.withUnsafeMutableBufferPointer { z in
                    bnn_binary_compact_zero_masks(m.baseAddress!, Int64(outputChannels), Int64(taps), Int64(words),
                                                  blocks.base, c.baseAddress!, z.baseAddress!)
                }
            }
        })
        return (blocks, AlignedBuffer(Array(channels.prefix(entries))), AlignedBuffer(Array(masks.prefix(entries * kWords))))
    }

    private static func validate(outputChannels: Int, stride: Int, padding: Int, transform: BinaryOutputTransform?,
                                 variant: BinaryKernelVariant) throws {
        guard stride >= 1 else { throw BinaryKernelError.invalidSetting(setting: "stride", expected: "≥ 1", found: stride) }
        guard padding >= 0 else { throw BinaryKernelError.invalidSetting(setting: "padding", expected: "≥ 0", found: padding) }
        if let transform, transform.scale.count != outputChannels {
            throw BinaryKernelError.shapeMismatch(tensor: "transform.scale", expected: "[\(outputChannels)]",
                                                  found: [transform.scale.count])
        }
        if let bias = transform?.bias, bias.count != outputChannels {
            throw BinaryKernelError.shapeMismatch(tensor: "transform.bias", expected: "[\(outputChannels)]",
                                                  found: [bias.count])
        }
        guard variant.isAvailable else { throw BinaryKernelError.unavailableKernel(variant.description) }
    }

    /// Output height or width for an input extent `n`: `(n + 2·padding − k) / stride + 1`.
    public func outputExtent(_ n: Int, kernel k: Int) -> Int { (n + 2 * padding - k) / stride + 1 }

    /// The convolution geometry for a batch of `batch` images of `height`×`width` pixels.
    public func geometry(batch: Int, height: Int, width: Int) -> ConvolutionGeometry {
        ConvolutionGeometry(batch: batch, inputHeight: height, inputWidth: width, inputChannels: inputChannels,
                            outputChannels: outputChannels, kernelHeight: kernelHeight, kernelWidth: kernelWidth,
                            stride: stride, padding: padding)
    }

    /// Runs the convolution on packed input and writes any of raw dots, transformed floats and packed
    /// output signs; the output rows are split over ``Parallel`` (at least 2²⁴ bit-MACs per chunk).
    ///
    /// - Parameters:
    ///   - input: N×(H+2m)×(W+2m)×⌈C/64⌉ packed signs, m = `inputMargin` (with m < padding the
    ///     portable kernel runs).
    ///   - inputMargin: m, the zero border of `input` in pixels.
    ///   - batch: N.
    ///   - height: H.
    ///   - width: W.
    ///   - residual: N·OH·OW·O floats added before the clamp, or nil.
    ///   - output: N·OH·OW·O floats to write (N·OH/2·OW/2·O with ``BinaryEpilogue/poolsOutput``), or nil.
    ///   - packedOutput: N·(OH+2m')·(OW+2m')·⌈O/64⌉ words with a zeroed border, m' = `outputMargin`, or nil.
    ///   - outputMargin: m' (0 without `packedOutput`).
    ///   - dots: N·OH·OW·O integers to write, or nil.
    ///   - epilogue: an activation, a packing threshold and a slice layout beyond the transform
    ///     (none by default); with an output stride, `output` points at the slice's first channel.
    ///   - rows: the output rows (of N·OH) to compute, all by default; a range runs on the calling thread
    ///     (with a pooled output it must cover whole pairs of rows).
    /// - Returns: how many packed outputs were ±0 or NaN (0 without `packedOutput`).
    /// - Precondition: a transform was prepared when `output` or `packedOutput` is set, and the kernel
    ///   fits the padded input (programmer errors).
    @discardableResult
    public func run(input: UnsafePointer<UInt64>, inputMargin: Int, batch: Int, height: Int, width: Int,
                    residual: UnsafePointer<Float>? = nil, output: UnsafeMutablePointer<Float>?,
                    packedOutput: UnsafeMutablePointer<UInt64>? = nil, outputMargin: Int = 0,
                    dots: UnsafeMutablePointer<Int32>? = nil, epilogue: BinaryEpilogue = BinaryEpilogue(),
                    rows: Range<Int>? = nil) -> Int {
        precondition((output == nil && packedOutput == nil) || scale != nil,
                     "PreparedBinaryConvolution.run: output needs a transform")
        epilogue.check(outputChannels: outputChannels)
        precondition(height + 2 * padding >= kernelHeight && width + 2 * padding >= kernelWidth,
                     "PreparedBinaryConvolution.run: the kernel does not fit the padded input")
        let (oh, ow) = (outputExtent(height, kernel: kernelHeight), outputExtent(width, kernel: kernelWidth))
        precondition(!epilogue.poolsOutput || (oh % 2 == 0 && ow % 2 == 0 && (rows.map { $0.lowerBound % 2 == 0 && $0.upperBound % 2 == 0 } ?? true)),
                     "PreparedBinaryConvolution.run: a pooled output needs an even output extent and whole pairs of rows")
        var params = bnn_binary_conv_params(
            batch: Int64(batch), height: Int64(height), width: Int64(width), channels: Int64(inputChannels),
            out_channels: Int64(outputChannels), kernel_h: Int64(kernelHeight), kernel_w: Int64(kernelWidth),
            stride: Int64(stride), padding: Int64(padding), out_h: Int64(oh), out_w: Int64(ow),
            input: input, input_margin: Int64(inputMargin), weights: blocked.base, tap_popcounts: tapPopcounts.base,
            dots: dots, scale: scale?.base, bias: bias?.base, residual: residual,
            clamp: clamp == nil ? 0 : 1, clamp_lo: clamp?.lowerBound ?? 0, clamp_hi: clamp?.upperBound ?? 0,
            output: output, packed_output: packedOutput, packed_output_margin: Int64(outputMargin),
            zero_blocks: zeroTables?.blocks.base, zero_channels: zeroTables?.channels.base,
            zero_masks: zeroTables?.masks.base,
            activation_shift: epilogue.activationShift?.base, activation_slope: epilogue.activationSlope?.base,
            activation_bias: epilogue.activationBias?.base, pack_threshold: epilogue.packThreshold?.base,
            output_stride: Int64(epilogue.outputStride ?? 0),
            packed_stride: Int64(epilogue.packedStride ?? 0), packed_channel: Int64(epilogue.packedChannel),
            output_pool: epilogue.poolsOutput ? 1 : 0)
        if let rows { return variant.convolveRows(&params, rows.lowerBound, rows.upperBound) }
        let variant = self.variant
        let rowMACs = max(1, ow * outputChannels * kernelHeight * kernelWidth * inputChannels)
        let unrepresentable = ParallelCounter()
        // A pooled output is split in pairs of rows (a window's two rows in one call, in order).
        let group = epilogue.poolsOutput ? 2 : 1
        Parallel.forEachChunk(batch * oh / group, minimumChunk: max(1, (1 << 24) / (rowMACs * group))) { chunk in
            var local = params
            unrepresentable.add(variant.convolveRows(&local, chunk.lowerBound * group, chunk.upperBound * group))
        }
        return unrepresentable.value
    }
}
