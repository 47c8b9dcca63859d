import BNN

/// Lowers a plan of ``ExportStep``s into an ``EngineProgram``, fusing by pattern:
///
/// - a float convolution's epilogue scale into its weights, its shift into the pass after it (a step
///   in ``BNN/ComputePrecision/bf16`` runs the bfloat16 kernels where the CPU has bfloat16 instructions,
///   else single precision on its rounded weights);
/// - runs of element-wise steps into one pass (``PointwiseChain``), after the producing layer;
/// - a max-pool before a non-decreasing chain (the stem's bias, clamp, pool become pool, bias, clamp);
/// - the signs a binary layer reads into the pass or binary kernel that produces its input, and a
///   learnable shift before them (ReActNet's RSign) into the threshold of that packing;
/// - in a residual whose body ends with a binary convolution: the shortcut added, the next clamp
///   applied and a shortcut convolution's bias folded, all in the binary kernel's epilogue.
struct EngineCompiler {
    /// A value with element-wise work still to apply: optionally pooled, then the chain.
    private struct Pending {
        enum Source {
            case value
            case maxPool(kernel: Int, stride: Int, padding: Int)
            case averagePool(kernel: Int, stride: Int, padding: Int, ceilMode: Bool)
            case sum(Int)
        }

        var value: Int
        var source: Source = .value
        var chain = PointwiseChain()
        var name: String
    }

    private(set) var program = EngineProgram()
    private var packedIndex: [Int: [Int: Int]] = [:]
    private var producer: [Int: any EngineOperation] = [:]

    /// Compiles `steps` for N×`height`×`width`×`channels` input.
    ///
    /// - Throws: ``BinaryKernelError`` when a binary layer cannot be prepared (e.g. `BNN_KERNELS`
    ///   names a kernel this CPU lacks).
    static func compile(_ steps: [ExportStep], height: Int, width: Int, channels: Int) throws -> EngineProgram {
        var compiler = EngineCompiler()
        let input = compiler.program.addValue(height: height, width: width, channels: channels)
        compiler.program.input = input
        let result = try compiler.compile(steps, Pending(value: input, name: "input"), path: "steps")
        compiler.program.output = compiler.materialize(result)
        compiler.fuseAveragePools()
        compiler.program.assignSlots()
        return compiler.program
    }

    /// Moves each 2×2 average pool (stride 2, no padding, nothing after it in its pass) of a binary
    /// convolution's output that nothing else reads into that convolution's epilogue
    /// (``BinaryConvolutionOperation/poolOutput(into:)``), when its kernels pool at full speed
    /// (ReActNet-A's shortcuts into its reduction blocks): the full-size floats are never written.
    private mutating func fuseAveragePools() {
        // The floats each operation reads (a binary convolution lists its input but reads only its packed signs).
        var readers: [Int: Int] = [:]
        for operation in program.operations {
            let floats = (operation as? BinaryConvolutionOperation).map { $0.residual.map { [$0] } ?? [] } ?? operation.inputs
            for v in floats { readers[program.root(v), default: 0] += 1 }
        }
        let aliased = Set(program.values.compactMap { $0.alias.map(program.root) })
        var fused = Set<Int>()
        for (index, operation) in program.operations.enumerated() {
            guard let pool = operation as? RowPassOperation, case let .averagePool(v, kernel, stride, padding) = pool.source,
                  kernel == 2, stride == 2, padding == 0, pool.chain.isEmpty, pool.packedOutput == nil,
                  pool.thresholdedOutput == nil, pool.inputHeight % 2 == 0, pool.inputWidth % 2 == 0,
                  pool.outputHeight * 2 == pool.inputHeight, pool.outputWidth * 2 == pool.inputWidth,
                  let binary = producer[v] as? BinaryConvolutionOperation, binary.output == v, binary.pooledOutput == nil,
                  binary.canPoolOutput, readers[program.root(v)] == 1, !aliased.contains(program.root(v)),
                  program.root(v) != program.root(program.output), program.root(v) != program.root(program.input)
            else { continue }
            binary.poolOutput(into: pool.output)
            producer[pool.output] = binary
            fused.insert(index)
        }
        program.operations = program.operations.enumerated().filter { !fused.contains($0.offset) }.map(\.element)
    }

    private mutating func emit(_ operation: any EngineOperation) {
        program.operations.append(operation)
        for v in operation.outputs { producer[v] = operation }
    }

    private func shape(_ v: Int) -> (h: Int, w: Int, c: Int) {
        let value = program.values[v]
        return (value.height, value.width, value.channels)
    }

    /// The value of `pending` with its pool and chain applied (a row pass when there are any).
    private mutating func materialize(_ pending: Pending) -> Int {
        let (h, w, c) = shape(pending.value)
        let source: RowPassOperation.Source
        var (oh, ow) = (h, w)
        var name = pending.name
        switch pending.source {
        case .value:
            guard !pending.chain.isEmpty else { return pending.value }
            source = .copy(pending.value)
        case let .maxPool(k, s, p):
            (oh, ow) = ((h + 2 * p - k) / s + 1, (w + 2 * p - k) / s + 1)
            source = .maxPool(pending.value, kernel: k, stride: s, padding: p)
            name += " max-pool"
        case let .averagePool(k, s, p, ceilMode):
            (oh, ow) = (PlanValidation.averagePoolExtent(h, k, s, p, ceilMode), PlanValidation.averagePoolExtent(w, k, s, p, ceilMode))
            source = .averagePool(pending.value, kernel: k, stride: s, padding: p)
            name += " average-pool"
        case let .sum(other):
            source = .sum(pending.value, other)
            name += " residual add"
        }
        let output = program.addValue(height: oh, width: ow, channels: c)
        emit(RowPassOperation(name: name, source: source, chain: pending.chain, output: output, inputHeight: h, inputWidth: w,
                              outputHeight: oh, outputWidth: ow, channels: c))
        return output
    }

    /// The packed signs of `value` with a border of `margin`, written by its producer when it can.
    private mutating func packed(_ value: Int, margin: Int) -> Int {
        if let existing = packedIndex[value]?[margin] { return existing }
        let (h, w, c) = shape(value)
        program.packedValues.append(PackedValue(value: value, margin: margin, height: h, width: w, channels: c))
        let index = program.packedValues.count - 1
        packedIndex[value, default: [:]][margin] = index
        if let pass = producer[value] as? RowPassOperation, pass.packedOutput == nil {
            pass.packedOutput = (index, margin)
        } else if let binary = producer[value] as? BinaryConvolutionOperation, binary.packedOutput == nil, binary.canPack {
            binary.setPackedOutput(index: index, margin: margin, threshold: nil)
        } else {
            emit(PackOperation(name: "pack", input: value, packed: index, margin: margin, height: h, width: w, channels: c))
        }
        return index
    }

    /// The float value and packed signs a binary layer with `margin` reads from `pending`: a single
    /// bias left on a row pass's output becomes the threshold of a packing that pass writes (no pass
    /// of its own), anything else is materialised and packed.
    private mutating func binaryInput(_ pending: Pending, margin: Int) -> (value: Int, packed: Int) {
        if case .value = pending.source, let offset = pending.chain.singleBias {
            let (h, w, c) = shape(pending.value)
            let packed = PackedValue(value: pending.value, margin: margin, height: h, width: w, channels: c)
            if let pass = producer[pending.value] as? RowPassOperation, pass.thresholdedOutput == nil {
                program.packedValues.append(packed)
                pass.thresholdedOutput = (program.packedValues.count - 1, margin, offset)
                return (pending.value, program.packedValues.count - 1)
            }
            if let binary = producer[pending.value] as? BinaryConvolutionOperation, binary.packedOutput == nil, binary.canPack {
                program.packedValues.append(packed)
                binary.setPackedOutput(index: program.packedValues.count - 1, margin: margin, threshold: offset)
                return (pending.value, program.packedValues.count - 1)
            }
        }
        let x = materialize(pending)
        return (x, packed(x, margin: margin))
    }

    private mutating func compile(_ steps: [ExportStep], _ start: Pending, path: String) throws -> Pending {
        var pending = start
        for (index, step) in steps.enumerated() {
            pending = try compile(step, pending, path: "\(path)[\(index)]")
        }
        return pending
    }

    private mutating func compile(_ step: ExportStep, _ input: Pending, path: String) throws -> Pending {
        var pending = input
        if let operation = PointwiseChain.operation(for: step) {
            pending.chain.append(operation)
            return pending
        }
        switch step {
        case let .maxPool(k, s, p):
            if case .value = pending.source, pending.chain.isMonotone {
                pending.source = .maxPool(kernel: k, stride: s, padding: p)
                return pending
            }
            return Pending(value: materialize(pending), source: .maxPool(kernel: k, stride: s, padding: p), name: path)
        case let .averagePool(k, s, p, ceilMode):
            if case .value = pending.source, pending.chain.isEmpty {
                pending.source = .averagePool(kernel: k, stride: s, padding: p, ceilMode: ceilMode)
                return pending
            }
            return Pending(value: materialize(pending), source: .averagePool(kernel: k, stride: s, padding: p, ceilMode: ceilMode),
                           name: path)
        case let .convolution(s):
            return try convolution(s, binary: false, input: materialize(pending), path: path)
        case let .binaryConvolution(s) where s.groups == 1:
            let input = binaryInput(pending, margin: s.padding)
            return try convolution(s, binary: true, input: input.value, packedInput: input.packed, path: path)
        case let .binaryConvolution(s):
            return try convolution(s, binary: true, input: materialize(pending), path: path)
        case let .linear(s):
            return try convolution(s.asConvolution, binary: false, input: materialize(pending), path: path)
        case let .binaryLinear(s):
            let input = binaryInput(pending, margin: 0)
            return try convolution(s.asConvolution, binary: true, input: input.value, packedInput: input.packed, path: path)
        case .globalAveragePool:
            let x = materialize(pending)
            let (h, w, c) = shape(x)
            let output = program.addValue(height: 1, width: 1, channels: c)
            emit(GlobalAveragePoolOperation(name: "\(path) global average pool", input: x, output: output, pixels: h * w, channels: c))
            return Pending(value: output, name: path)
        case .flatten:
            let x = materialize(pending)
            let (h, w, c) = shape(x)
            guard h != 1 || w != 1 else { return Pending(value: x, name: pending.name) }
            return Pending(value: program.addValue(height: 1, width: 1, channels: h * w * c, alias: x), name: pending.name)
        case let .residual(r):
            return try residual(r, input: materialize(pending), path: path)
        case let .concatenate(branches):
            let x = materialize(pending)
            let (h, w, _) = shape(x)
            var parts: [(value: Int, channels: Int)] = []
            for (index, branch) in branches.enumerated() {
                let v = materialize(try compile(branch, Pending(value: x, name: path), path: "\(path).branch[\(index)]"))
                parts.append((v, shape(v).c))
            }
            let output = program.addValue(height: h, width: w, channels: parts.reduce(0) { $0 + $1.channels })
            emit(ConcatenateOperation(name: "\(path) concatenate", parts: parts, output: output, pixels: h * w))
            return Pending(value: output, name: path)
        case .scaleShift, .addBias, .sign, .relu, .prelu, .clamp:
            preconditionFailure("EngineCompiler: element-wise steps are chained above")
        }
    }

    /// A convolution (or a dense layer as a 1×1 convolution of a 1×1 image) and its epilogue; with
    /// `residual`, the binary kernel adds it and applies `clamp`.
    private mutating func convolution(_ s: ConvolutionStep, binary: Bool, input x: Int, packedInput: Int? = nil, path: String,
                                      residual: Int? = nil, extraShift: [Float]? = nil,
                                      clamp: ClosedRange<Float>? = nil, activation: EpilogueActivation? = nil) throws -> Pending {
        let (h, w, _) = shape(x)
        let (oh, ow) = ((h + 2 * s.padding - s.kernelSize) / s.stride + 1, (w + 2 * s.padding - s.kernelSize) / s.stride + 1)
        let output = program.addValue(height: oh, width: ow, channels: s.outputChannels)
        let name = s.name.isEmpty ? path : s.name
        if binary && s.groups == 1 {
            let prepared = try preparedBinary(s, extraShift: extraShift, clamp: clamp)
            let packedInput = packedInput ?? packed(x, margin: s.padding)
            emit(BinaryConvolutionOperation(
                name: name, parts: [.init(prepared: prepared, channel: 0)], input: x, packedInput: packedInput,
                inputMargin: s.padding, residual: residual, output: output, outputChannels: s.outputChannels, height: h, width: w,
                activation: activation))
            return Pending(value: output, name: name)
        }
        precondition(residual == nil, "EngineCompiler: only a binary kernel adds a residual")
        var pending = Pending(value: output, name: name)
        if s.groups == 1 {
            var weight = s.weight
            let perOutput = weight.count / s.outputChannels
            for o in 0..<s.outputChannels where s.scale[o] != 1 {
                for i in o * perOutput..<(o + 1) * perOutput { weight[i] *= s.scale[o] }
            }
            let prepared = PreparedFloatConvolution(outputChannels: s.outputChannels, inputChannels: s.inputChannels,
                                                    kernelSize: s.kernelSize, stride: s.stride, padding: s.padding,
                                                    weight: weight, bias: nil,
                                                    precision: ComputePrecision.granted(s.precision).precision)
            emit(FloatConvolutionOperation(name: name, prepared: prepared, input: x, output: output, height: h, width: w))
            if s.shift.contains(where: { $0 != 0 }) { pending.chain.append(.addBias(AlignedBuffer(s.shift))) }
        } else {
            emit(GroupedConvolutionOperation(name: name, step: s, binaryInput: binary, input: x, output: output, height: h, width: w))
            pending.chain.append(.scaleShift(scale: AlignedBuffer(s.scale), shift: AlignedBuffer(s.shift)))
        }
        return pending
    }

    /// A binary convolution step's signs, zero mask and transform (with `extraShift` added to its shift) in
    /// the kernels' layout.
    private func preparedBinary(_ s: ConvolutionStep, extraShift: [Float]?, clamp: ClosedRange<Float>?) throws
        -> PreparedBinaryConvolution {
        let weights = Tensor(shape: [s.outputChannels, s.kernelSize, s.kernelSize, s.inputChannels], scalars: s.weight)
        let (signs, zeroMask) = try PackedWeights.signWords(of: weights)
        let shift = extraShift.map { zip(s.shift, $0).map(+) } ?? s.shift
        return try PreparedBinaryConvolution(
            signs: signs, zeroMask: zeroMask, outputChannels: s.outputChannels, inputChannels: s.inputChannels,
            kernelHeight: s.kernelSize, kernelWidth: s.kernelSize, stride: s.stride, padding: s.padding,
            transform: BinaryOutputTransform(scale: s.scale, bias: shift, clamp: clamp))
    }

    /// A residual's post steps split into what the binary epilogue applies (a clamp, then RPReLU:
    /// bias, PReLU, bias, each optional) and the rest.
    private func epiloguePost(_ post: [ExportStep]) -> (clamp: ClosedRange<Float>?, activation: EpilogueActivation?, rest: [ExportStep]) {
        var rest = post[...]
        var clamp: ClosedRange<Float>?
        if case let .clamp(lo, hi)? = rest.first {
            clamp = lo...hi
            rest = rest.dropFirst()
        }
        var activation = EpilogueActivation()
        if case let .addBias(b)? = rest.first {
            activation.shift = AlignedBuffer(b)
            rest = rest.dropFirst()
        }
        if case let .prelu(a)? = rest.first {
            activation.slope = AlignedBuffer(a)
            rest = rest.dropFirst()
            if case let .addBias(b)? = rest.first {
                activation.bias = AlignedBuffer(b)
                rest = rest.dropFirst()
            }
        }
        return (clamp, activation.isEmpty ? nil : activation, Array(rest))
    }

    /// `post(body(x) + shortcut(x))`, fused into the body's last binary convolution when there is one,
    /// or into the binary convolutions of a closing concatenation of them.
    private mutating func residual(_ r: ResidualStep, input x: Int, path: String) throws -> Pending {
        if let fused = try concatenatedResidual(r, input: x, path: path) { return fused }
        let shortcut = try compile(r.shortcut, Pending(value: x, name: path), path: "\(path).shortcut")
        if case let .binaryConvolution(last)? = r.body.last, last.groups == 1 {
            let head = binaryInput(try compile(Array(r.body.dropLast()), Pending(value: x, name: path), path: "\(path).body"),
                                   margin: last.padding)
            var residual: Int, extraShift: [Float]?
            if case .value = shortcut.source, shortcut.value != x, let bias = shortcut.chain.singleBias {
                // A shortcut convolution's bias joins the binary epilogue's shift.
                (residual, extraShift) = (shortcut.value, (0..<bias.count).map { bias.base[$0] })
            } else {
                (residual, extraShift) = (materialize(shortcut), nil)
            }
            let (clamp, activation, post) = epiloguePost(r.post)
            let fused = try convolution(last, binary: true, input: head.value, packedInput: head.packed,
                                        path: "\(path).body[\(r.body.count - 1)]", residual: residual, extraShift: extraShift,
                                        clamp: clamp, activation: activation)
            return try compile(post, fused, path: "\(path).post")
        }
        let body = materialize(try compile(r.body, Pending(value: x, name: path), path: "\(path).body"))
        let sum = Pending(value: body, source: .sum(materialize(shortcut)), name: path)
        return try compile(r.post, sum, path: "\(path).post")
    }

    /// ReActNet-A's reduction: `post(concat(conv₁(h), …, convₙ(h)) + shortcut(x))` with h the body's
    /// steps before the concatenation, each branch one binary convolution. One operation runs the
    /// branches, each writing its slice of the output with its share of the residual and of the
    /// post steps in its epilogue. The shortcut must be n copies of x, so each branch adds x (as many
    /// channels as the branch, the same extent). Nil when the residual has another form.
    private mutating func concatenatedResidual(_ r: ResidualStep, input x: Int, path: String) throws -> Pending? {
        guard case let .concatenate(branches)? = r.body.last, branches.count > 1 else { return nil }
        var convolutions: [ConvolutionStep] = []
        for branch in branches {
            guard branch.count == 1, case let .binaryConvolution(s) = branch[0], s.groups == 1,
                  s.padding == convolutions.first?.padding ?? s.padding, s.stride == convolutions.first?.stride ?? s.stride,
                  s.kernelSize == convolutions.first?.kernelSize ?? s.kernelSize else { return nil }
            convolutions.append(s)
        }
        let (h, w, c) = shape(x)
        let total = convolutions.reduce(0) { $0 + $1.outputChannels }
        guard r.shortcut.count == 1, case let .concatenate(identities) = r.shortcut[0], identities.count == branches.count,
              identities.allSatisfy(\.isEmpty), convolutions.allSatisfy({ $0.outputChannels == c }) else { return nil }
        let first = convolutions[0]
        let (oh, ow) = ((h + 2 * first.padding - first.kernelSize) / first.stride + 1, (w + 2 * first.padding - first.kernelSize) / first.stride + 1)
        guard (oh, ow) == (h, w) else { return nil }
        let head = binaryInput(try compile(Array(r.body.dropLast()), Pending(value: x, name: path), path: "\(path).body"),
                               margin: first.padding)
        let (clamp, activation, post) = epiloguePost(r.post)
        var parts: [BinaryConvolutionOperation.Part] = []
        var channel = 0
        for s in convolutions {
            parts.append(.init(prepared: try preparedBinary(s, extraShift: nil, clamp: clamp), channel: channel))
            channel += s.outputChannels
        }
        let output = program.addValue(height: oh, width: ow, channels: total)
        let name = convolutions.map(\.name).filter { !$0.isEmpty }.joined(separator: " + ")
        emit(BinaryConvolutionOperation(
            name: name.isEmpty ? "\(path).body[\(r.body.count - 1)]" : name, parts: parts, input: head.value, packedInput: head.packed,
            inputMargin: first.padding, residual: x, output: output, outputChannels: total, height: h, width: w,
            activation: activation))
        return try compile(post, Pending(value: output, name: name), path: "\(path).post")
    }
}

/// The activation a residual's post steps give a binary epilogue (see ``BinaryEpilogue``).
struct EpilogueActivation {
    var shift: AlignedBuffer<Float>?
    var slope: AlignedBuffer<Float>?
    var bias: AlignedBuffer<Float>?

    /// Whether there is nothing to apply.
    var isEmpty: Bool { shift == nil && slope == nil && bias == nil }
}

extension LinearStep {
    /// The dense layer as a 1×1 convolution of a 1×1 image.
    fileprivate var asConvolution: ConvolutionStep {
        ConvolutionStep(name: name, weight: weight, inputChannels: inputFeatures, outputChannels: outputFeatures, kernelSize: 1,
                        stride: 1, padding: 0, groups: 1, scale: scale, shift: shift, precision: precision)
    }
}
