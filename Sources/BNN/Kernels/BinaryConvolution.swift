import BNNKernels

/// Bit-packed binary 2-D convolution (XNOR-popcount) on N×H×W×C activations with O×kH×kW×C
/// weights, both given as signs (``PackedActivations``, ``PackedWeights``).
///
/// The integer result of output channel `o` at a pixel is the exact dot product of the ±1 input and
/// weight signs over the taps inside the image: zero padding contributes 0, exactly as the float
/// convolution of the ±1 tensors with zero padding (borders included). It is turned into floats by
/// a fused ``BinaryOutputTransform`` (scale, bias, optional residual add and clamp) and can also
/// be written as the next layer's packed signs. Work is split over output rows with
/// ``Parallel/forEachChunk(_:minimumChunk:_:)``. Every call prepares a ``PreparedBinaryConvolution``
/// (whose variant is ``BinaryKernelVariant/selected``) and runs it; callers that run the same weights
/// many times prepare once themselves.
public enum BinaryConvolution {
    /// Checks that `input` and `weights` fit and returns the convolution geometry.
    ///
    /// - Throws: ``BinaryKernelError`` when the channel counts differ, stride < 1, padding < 0, or
    ///   the kernel does not fit in the padded input.
    public static func geometry(input: PackedActivations, weights: PackedWeights, stride: Int,
                                padding: Int) throws -> ConvolutionGeometry {
        guard stride >= 1 else { throw BinaryKernelError.invalidSetting(setting: "stride", expected: "≥ 1", found: stride) }
        guard padding >= 0 else { throw BinaryKernelError.invalidSetting(setting: "padding", expected: "≥ 0", found: padding) }
        guard input.channels == weights.inputChannels else {
            throw BinaryKernelError.shapeMismatch(tensor: "input", expected: "N×H×W×\(weights.inputChannels) (the weights' C)",
                                                  found: input.shape)
        }
        guard input.height + 2 * padding >= weights.kernelHeight, input.width + 2 * padding >= weights.kernelWidth else {
            throw BinaryKernelError.shapeMismatch(
                tensor: "input", expected: "at least \(weights.kernelHeight)×\(weights.kernelWidth) pixels with padding \(padding)",
                found: input.shape)
        }
        return ConvolutionGeometry(batch: input.batch, inputHeight: input.height, inputWidth: input.width,
                                   inputChannels: input.channels, outputChannels: weights.outputChannels,
                                   kernelHeight: weights.kernelHeight, kernelWidth: weights.kernelWidth,
                                   stride: stride, padding: padding)
    }

    /// The fused forward pass: `transform(conv(input, weights))` as an N×OH×OW×O tensor.
    ///
    /// - Parameters:
    ///   - input: packed N×H×W×C signs; a margin ≥ `padding` spares a copy.
    ///   - weights: packed O×kH×kW×C signs.
    ///   - stride: stride in both directions (≥ 1).
    ///   - padding: symmetric zero padding (≥ 0); padded positions contribute 0.
    ///   - transform: the per-output-channel scale, bias and clamp (O values each).
    ///   - residual: optional N×OH×OW×O tensor added after the scale and bias, before the clamp.
    /// - Throws: ``BinaryKernelError`` for mismatched shapes, settings or transform sizes.
    public static func forward(_ input: PackedActivations, weights: PackedWeights, stride: Int = 1, padding: Int = 0,
                               transform: BinaryOutputTransform, residual: Tensor? = nil) throws -> Tensor {
        try forward(input, weights: weights, stride: stride, padding: padding, transform: transform,
                    residual: residual, packOutput: false).output
    }

    /// The fused forward pass that also packs the signs of its output for the next binary layer.
    ///
    /// - Parameters:
    ///   - input: packed N×H×W×C signs; a margin ≥ `padding` spares a copy.
    ///   - weights: packed O×kH×kW×C signs.
    ///   - stride: stride in both directions (≥ 1).
    ///   - padding: symmetric zero padding (≥ 0); padded positions contribute 0.
    ///   - transform: the per-output-channel scale, bias and clamp (O values each).
    ///   - residual: optional N×OH×OW×O tensor added after the scale and bias, before the clamp.
    ///   - outputMargin: zero border of the packed output (the next convolution's padding).
    /// - Returns: the N×OH×OW×O float output and its packed signs (whose
    ///   ``PackedActivations/unrepresentableCount`` counts outputs that were exactly 0).
    /// - Throws: ``BinaryKernelError`` for mismatched shapes, settings or transform sizes.
    public static func forwardPacked(_ input: PackedActivations, weights: PackedWeights, stride: Int = 1,
                                     padding: Int = 0, transform: BinaryOutputTransform, residual: Tensor? = nil,
                                     outputMargin: Int = 0) throws -> (output: Tensor, packed: PackedActivations) {
        let result = try forward(input, weights: weights, stride: stride, padding: padding, transform: transform,
                                 residual: residual, packOutput: true, outputMargin: outputMargin)
        return (result.output, result.packed!)
    }

    /// `conv(sign(x), sign(W))·α[o]` in `Float` for Bi-Real Net's training forward pass, or nil when
    /// `input` holds an exact zero (or NaN), whose float sign 0 a bit cannot represent: the caller
    /// then takes its float path.
    ///
    /// - Parameters:
    ///   - input: N×H×W×C activations (signed here).
    ///   - weights: packed latent weights; α is ``PackedWeights/alpha``.
    ///   - stride: stride in both directions (≥ 1).
    ///   - padding: symmetric zero padding (≥ 0); padded positions contribute 0.
    /// - Throws: ``BinaryKernelError`` for mismatched shapes or settings.
    public static func signConvolution(_ input: Tensor, weights: PackedWeights, stride: Int = 1,
                                       padding: Int = 0) throws -> Tensor? {
        let packed = try PackedActivations(packing: input, margin: padding)
        guard packed.isExact else { return nil }
        return try forward(packed, weights: weights, stride: stride, padding: padding,
                           transform: .scaling(by: weights.alpha))
    }

    /// The raw integer dot products, N×OH×OW×O row-major (the inner kernel without any transform).
    ///
    /// - Throws: ``BinaryKernelError`` for mismatched shapes or settings.
    public static func dotProducts(_ input: PackedActivations, weights: PackedWeights, stride: Int = 1,
                                   padding: Int = 0) throws -> [Int32] {
        let g = try geometry(input: input, weights: weights, stride: stride, padding: padding)
        let source = input.margin >= padding ? input : input.withMargin(padding)
        return [Int32](unsafeUninitializedCapacity: g.outputCount) { out, initialized in
            _ = run(source, weights: weights, geometry: g, transform: nil, residual: nil, output: nil,
                    packedOutput: nil, packedOutputMargin: 0, dots: out.baseAddress)
            initialized = g.outputCount
        }
    }

    /// The pointer-level entry for engines that own their buffers: runs the convolution once and
    /// writes any of raw dots, transformed floats and packed output signs.
    ///
    /// - Parameters:
    ///   - input: packed input; when its margin is smaller than the padding the portable kernel runs
    ///     (give it a margin ≥ padding, see ``PackedActivations/withMargin(_:)``, for speed).
    ///   - weights: packed O×kH×kW×C signs.
    ///   - g: the geometry, from ``geometry(input:weights:stride:padding:)``.
    ///   - transform: needed when `output` or `packedOutput` is set; scale (and bias) of O values.
    ///   - residual: N·OH·OW·O floats added before the clamp, or nil.
    ///   - output: N·OH·OW·O floats to write, or nil.
    ///   - packedOutput: N·(OH+2m)·(OW+2m)·⌈O/64⌉ words with a zeroed border, m = `packedOutputMargin`, or nil.
    ///   - packedOutputMargin: m, the zero border of `packedOutput` in pixels (0 when it is nil).
    ///   - dots: N·OH·OW·O integers to write, or nil.
    /// - Returns: the number of transformed outputs that were ±0 or NaN when packing (else 0).
    /// - Precondition: `transform` has O scales (and biases) when it is needed (programmer error).
    @discardableResult
    public static func run(_ input: PackedActivations, weights: PackedWeights, geometry g: ConvolutionGeometry,
                           transform: BinaryOutputTransform?, residual: UnsafePointer<Float>?,
                           output: UnsafeMutablePointer<Float>?, packedOutput: UnsafeMutablePointer<UInt64>?,
                           packedOutputMargin: Int, dots: UnsafeMutablePointer<Int32>?) -> Int {
        precondition(g.inputChannels == weights.inputChannels && g.outputChannels == weights.outputChannels
                     && g.kernelHeight == weights.kernelHeight && g.kernelWidth == weights.kernelWidth
                     && g.batch == input.batch && g.inputHeight == input.height && g.inputWidth == input.width
                     && g.inputChannels == input.channels, "BinaryConvolution.run: geometry does not match operands")
        precondition((output == nil && packedOutput == nil) || transform?.scale.count == g.outputChannels,
                     "BinaryConvolution.run: transform needs \(g.outputChannels) scales")
        precondition(transform?.bias.map { $0.count == g.outputChannels } ?? true,
                     "BinaryConvolution.run: transform needs \(g.outputChannels) biases")
        let prepared = PreparedBinaryConvolution(validated: weights, stride: g.stride, padding: g.padding,
                                                 transform: transform, variant: .selected)
        return input.words.withUnsafeBufferPointer { x in
            prepared.run(input: x.baseAddress!, inputMargin: input.margin, batch: g.batch, height: g.inputHeight,
                         width: g.inputWidth, residual: residual, output: output, packedOutput: packedOutput,
                         outputMargin: packedOutputMargin, dots: dots)
        }
    }

    /// Shared body of ``forward(_:weights:stride:padding:transform:residual:)`` and
    /// ``forwardPacked(_:weights:stride:padding:transform:residual:outputMargin:)``.
    private static func forward(_ input: PackedActivations, weights: PackedWeights, stride: Int, padding: Int,
                                transform: BinaryOutputTransform, residual: Tensor?, packOutput: Bool,
                                outputMargin: Int = 0) throws -> (output: Tensor, packed: PackedActivations?) {
        let g = try geometry(input: input, weights: weights, stride: stride, padding: padding)
        guard transform.scale.count == g.outputChannels else {
            throw BinaryKernelError.shapeMismatch(tensor: "transform.scale", expected: "[\(g.outputChannels)]",
                                                  found: [transform.scale.count])
        }
        if let bias = transform.bias, bias.count != g.outputChannels {
            throw BinaryKernelError.shapeMismatch(tensor: "transform.bias", expected: "[\(g.outputChannels)]",
                                                  found: [bias.count])
        }
        if let residual, residual.shape != g.outputShape {
            throw BinaryKernelError.shapeMismatch(tensor: "residual", expected: "\(g.outputShape)", found: residual.shape)
        }
        guard outputMargin >= 0 else {
            throw BinaryKernelError.invalidSetting(setting: "outputMargin", expected: "≥ 0", found: outputMargin)
        }
        let source = input.margin >= padding ? input : input.withMargin(padding)
        let wordsOut = binaryWordCount(channels: g.outputChannels)
        var packedWords = [UInt64](repeating: 0, count: packOutput
            ? g.batch * (g.outputHeight + 2 * outputMargin) * (g.outputWidth + 2 * outputMargin) * wordsOut : 0)
        var unrepresentable = 0
        let output = Tensor(shape: g.outputShape) { out in
            packedWords.withUnsafeMutableBufferPointer { packed in
                withOptionalBuffer(residual) { r in
                    unrepresentable = run(source, weights: weights, geometry: g, transform: transform, residual: r,
                                          output: out.baseAddress, packedOutput: packOutput ? packed.baseAddress : nil,
                                          packedOutputMargin: outputMargin, dots: nil)
                }
            }
        }
        let packed = packOutput
            ? PackedActivations(batch: g.batch, height: g.outputHeight, width: g.outputWidth, channels: g.outputChannels,
                                margin: outputMargin, words: packedWords, unrepresentableCount: unrepresentable)
            : nil
        return (output, packed)
    }

    /// Calls `body` with the base address of `tensor`'s scalars, or with nil when `tensor` is nil.
    private static func withOptionalBuffer<R>(_ tensor: Tensor?, _ body: (UnsafePointer<Float>?) -> R) -> R {
        guard let tensor else { return body(nil) }
        return tensor.withUnsafeBufferPointer { body($0.baseAddress) }
    }
}
