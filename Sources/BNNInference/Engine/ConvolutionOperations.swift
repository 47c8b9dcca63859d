import BNN

/// A float convolution or dense layer (`groups` = 1) through ``PreparedFloatConvolution``: writes
/// `conv(x)` with the epilogue's scale folded into the weights; the shift follows as a pointwise step.
final class FloatConvolutionOperation: EngineOperation {
    let name: String
    var kind: InferenceProfile.Kind { .floatConvolution }
    let prepared: PreparedFloatConvolution
    let input: Int, output: Int
    let height: Int, width: Int
    var inputs: [Int] { [input] }
    var outputs: [Int] { [output] }

    init(name: String, prepared: PreparedFloatConvolution, input: Int, output: Int, height: Int, width: Int) {
        (self.name, self.prepared, self.input, self.output, self.height, self.width) = (name, prepared, input, output, height, width)
    }

    func macs(batch: Int) -> Int {
        batch * prepared.outputExtent(height) * prepared.outputExtent(width) * prepared.outputChannels
            * prepared.kernelSize * prepared.kernelSize * prepared.inputChannels
    }

    func paddedScratch(batch: Int) -> Int {
        prepared.needsPaddedInput ? prepared.paddedCount(batch: batch, height: height, width: width) : 0
    }

    func run(_ frame: EngineFrame) -> Int {
        prepared.convolve(frame.values[input], batch: frame.batch, height: height, width: width, output: frame.values[output],
                          padded: frame.padded)
        return 0
    }
}

/// A binary convolution or dense layer through ``PreparedBinaryConvolution``, or several side by side
/// (the branches of a concatenation along channels, each writing its slice of one output): packed
/// input, the fused epilogue `scale·dot + shift (+ residual), clamp`, then the activation the
/// compiler moved into the kernel (RPReLU), float output and, when a later binary layer reads the
/// result, its packed signs (with RSign's threshold) written in the same pass.
final class BinaryConvolutionOperation: EngineOperation {
    /// One convolution: output channels [channel, channel + O); it adds the whole residual (O channels).
    struct Part {
        let prepared: PreparedBinaryConvolution
        let channel: Int
    }

    private(set) var name: String
    var kind: InferenceProfile.Kind { .binaryConvolution }
    let parts: [Part]
    let input: Int, packedInput: Int, inputMargin: Int
    let residual: Int?
    let output: Int
    /// Channels of the output.
    let outputChannels: Int
    let height: Int, width: Int
    /// The packed value written beside the floats, set by the compiler when a binary layer reads the output.
    private(set) var packedOutput: (index: Int, margin: Int)?
    /// The value that receives the 2×2 average pool of the output instead of it, set by the compiler
    /// when only that pool reads the output (``poolOutput(into:)``).
    private(set) var pooledOutput: Int?
    /// Per part: the activation, threshold and slice layout of its kernel's epilogue.
    private var epilogues: [BinaryEpilogue]
    var inputs: [Int] { [input] + (residual.map { [$0] } ?? []) }
    /// The output (still listed when pooled: it keeps a slot for its lifetime, never written) and the pool.
    var outputs: [Int] { [output] + (pooledOutput.map { [$0] } ?? []) }

    /// Creates the operation; `activation` (over all `outputChannels`) runs in every part's epilogue.
    init(name: String, parts: [Part], input: Int, packedInput: Int, inputMargin: Int, residual: Int?, output: Int,
         outputChannels: Int, height: Int, width: Int, activation: EpilogueActivation?) {
        (self.name, self.parts, self.input, self.packedInput, self.inputMargin) = (name, parts, input, packedInput, inputMargin)
        (self.residual, self.output, self.outputChannels) = (residual, output, outputChannels)
        (self.height, self.width) = (height, width)
        let sliced = parts.count > 1
        epilogues = parts.map { part in
            BinaryEpilogue(activationShift: activation?.shift.map { Self.slice($0, part) },
                           activationSlope: activation?.slope.map { Self.slice($0, part) },
                           activationBias: activation?.bias.map { Self.slice($0, part) },
                           outputStride: sliced ? outputChannels : nil,
                           packedStride: sliced ? binaryWordCount(channels: outputChannels) : nil)
        }
    }

    /// Whether the kernels can write the packed signs of the whole output: each slice starts at a
    /// packed channel that is a multiple of 16.
    var canPack: Bool { parts.allSatisfy { $0.channel % 16 == 0 } }

    /// Makes the kernels write the output's packed signs into packed value `index` (border `margin`),
    /// each the sign of the value plus `threshold` (per output channel; nil for 0).
    func setPackedOutput(index: Int, margin: Int, threshold: AlignedBuffer<Float>?) {
        precondition(packedOutput == nil && canPack, "BinaryConvolutionOperation: packed output set twice")
        packedOutput = (index, margin)
        for (k, part) in parts.enumerated() {
            epilogues[k].packedChannel = part.channel
            epilogues[k].packThreshold = threshold.map { Self.slice($0, part) }
        }
    }

    /// Whether the kernels pool the output as fast as they write it: every part a 1×1 convolution at
    /// stride 1 without padding or zero weights on the AVX-512 kernel, whose 1×1 path (16 output
    /// channels at a time; at most 128 input channels or rows of 7·k pixels) pools in its epilogue, and
    /// an even extent. Elsewhere a pooled output would run the portable kernel.
    var canPoolOutput: Bool {
        guard height % 2 == 0, width % 2 == 0 else { return false }
        return parts.allSatisfy { part in
            let p = part.prepared
            return p.variant == .avx512 && p.kernelHeight == 1 && p.kernelWidth == 1 && p.stride == 1 && p.padding == 0
                && p.zeroWeightChannels == 0 && p.outputChannels % 16 == 0
                && (p.inputChannels <= 128 || (width % 7 == 0 && width % 8 != 0))
        }
    }

    /// Makes the kernels write the 2×2 average pool of the output into `value` instead of the output.
    func poolOutput(into value: Int) {
        precondition(pooledOutput == nil && canPoolOutput, "BinaryConvolutionOperation: output pooled twice or unpoolable")
        pooledOutput = value
        name += " + average-pool"
        for k in epilogues.indices { epilogues[k].poolsOutput = true }
    }

    /// The values of `table` for the part's output channels.
    private static func slice(_ table: AlignedBuffer<Float>, _ part: Part) -> AlignedBuffer<Float> {
        AlignedBuffer(Array(UnsafeBufferPointer(start: table.base + part.channel, count: part.prepared.outputChannels)))
    }

    func macs(batch: Int) -> Int {
        parts.reduce(0) { total, part in
            let p = part.prepared
            return total + batch * p.outputExtent(height, kernel: p.kernelHeight) * p.outputExtent(width, kernel: p.kernelWidth)
                * p.outputChannels * p.kernelHeight * p.kernelWidth * p.inputChannels
        }
    }

    func run(_ frame: EngineFrame) -> Int {
        var unrepresentable = 0
        for (part, epilogue) in zip(parts, epilogues) {
            unrepresentable += part.prepared.run(
                input: frame.packed[packedInput], inputMargin: inputMargin, batch: frame.batch, height: height, width: width,
                residual: residual.map { UnsafePointer(frame.values[$0]) },
                output: frame.values[pooledOutput ?? output] + part.channel,
                packedOutput: packedOutput.map { frame.packed[$0.index] },
                outputMargin: packedOutput?.margin ?? 0, epilogue: epilogue)
        }
        return unrepresentable
    }
}

/// A grouped or depthwise convolution, float or binary (sign of input and weights), through the
/// tensor-level `GroupedConvolution` of `BNN`; writes the raw sums (its epilogue follows as a
/// pointwise step).
final class GroupedConvolutionOperation: EngineOperation {
    let name: String
    var kind: InferenceProfile.Kind { .floatConvolution }
    let weight: Tensor
    let binaryInput: Bool
    let groups: Int, stride: Int, padding: Int, kernelSize: Int, inputChannels: Int, outputChannels: Int
    let input: Int, output: Int
    let height: Int, width: Int
    var inputs: [Int] { [input] }
    var outputs: [Int] { [output] }

    init(name: String, step: ConvolutionStep, binaryInput: Bool, input: Int, output: Int, height: Int, width: Int) {
        self.name = name
        weight = Tensor(shape: [step.outputChannels, step.kernelSize, step.kernelSize, step.inputChannels / step.groups],
                        scalars: step.weight)
        (self.binaryInput, groups, stride, padding) = (binaryInput, step.groups, step.stride, step.padding)
        (kernelSize, inputChannels, outputChannels) = (step.kernelSize, step.inputChannels, step.outputChannels)
        (self.input, self.output, self.height, self.width) = (input, output, height, width)
    }

    /// The geometry of one channel group, as `GroupedConvolution` takes it.
    private func groupGeometry(batch: Int) -> ConvolutionGeometry {
        ConvolutionGeometry(batch: batch, inputHeight: height, inputWidth: width, inputChannels: inputChannels / groups,
                            outputChannels: outputChannels / groups, kernelHeight: kernelSize, kernelWidth: kernelSize,
                            stride: stride, padding: padding)
    }

    func macs(batch: Int) -> Int { groupGeometry(batch: batch).outputCount * groups * kernelSize * kernelSize * (inputChannels / groups) }

    func run(_ frame: EngineFrame) -> Int {
        let g = groupGeometry(batch: frame.batch)
        let source = frame.values[input]
        let x = Tensor(shape: [frame.batch, height, width, inputChannels], unsafeUninitialized: { out in
            for i in 0..<out.count {
                let v = source[i]
                out[i] = binaryInput ? (v > 0 ? 1 : (v < 0 ? -1 : 0)) : v
            }
        })
        let y = GroupedConvolution.forward(input: x, weight: weight, geometry: g, groups: groups)
        y.withUnsafeBufferPointer { frame.values[output].update(from: $0.baseAddress!, count: $0.count) }
        return 0
    }
}
