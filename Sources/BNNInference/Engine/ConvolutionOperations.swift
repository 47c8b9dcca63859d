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

/// A binary convolution or dense layer through ``PreparedBinaryConvolution``: packed input, the fused
/// epilogue `scale·dot + shift (+ residual), clamp`, float output and, when a later binary layer
/// reads the result, its packed signs written in the same pass.
final class BinaryConvolutionOperation: EngineOperation {
    let name: String
    var kind: InferenceProfile.Kind { .binaryConvolution }
    let prepared: PreparedBinaryConvolution
    let input: Int, packedInput: Int, inputMargin: Int
    let residual: Int?
    let output: Int
    /// The packed value written beside the floats, set by the compiler when a binary layer reads the output.
    var packedOutput: (index: Int, margin: Int)?
    let height: Int, width: Int
    var inputs: [Int] { [input] + (residual.map { [$0] } ?? []) }
    var outputs: [Int] { [output] }

    init(name: String, prepared: PreparedBinaryConvolution, input: Int, packedInput: Int, inputMargin: Int, residual: Int?,
         output: Int, height: Int, width: Int) {
        (self.name, self.prepared, self.input, self.packedInput, self.inputMargin) = (name, prepared, input, packedInput, inputMargin)
        (self.residual, self.output, self.height, self.width) = (residual, output, height, width)
    }

    func macs(batch: Int) -> Int {
        batch * prepared.outputExtent(height, kernel: prepared.kernelHeight) * prepared.outputExtent(width, kernel: prepared.kernelWidth)
            * prepared.outputChannels * prepared.kernelHeight * prepared.kernelWidth * prepared.inputChannels
    }

    func run(_ frame: EngineFrame) -> Int {
        prepared.run(input: frame.packed[packedInput], inputMargin: inputMargin, batch: frame.batch, height: height, width: width,
                     residual: residual.map { UnsafePointer(frame.values[$0]) }, output: frame.values[output],
                     packedOutput: packedOutput.map { frame.packed[$0.index] }, outputMargin: packedOutput?.margin ?? 0)
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
