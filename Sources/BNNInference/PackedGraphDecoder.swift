import BNN
import Foundation

/// Rebuilds a plan from the `graph` nodes of a `.bnnpack` file (<doc:PackedModelFormat>), reading the
/// tensors the nodes name and checking every attribute, dtype, shape and value, so that no bytes can
/// make it trap or allocate more than a small multiple of the file.
struct PackedGraphDecoder {
    /// The largest integer attribute accepted (channels, features, kernel size, stride, padding,
    /// groups, input size): 2^24.
    static let maximumExtent = 1 << 24
    /// The deepest nesting of residual and concatenation steps accepted.
    static let maximumDepth = 64
    /// The most values per image accepted at any step's input or output: 2^32.
    static let maximumActivationCount = 1 << 32

    /// The file the tensors come from.
    let file: SafeTensorsFile
    /// The names of the tensors read so far.
    private(set) var used: Set<String> = []

    /// Creates a decoder reading tensors from `file`.
    init(file: SafeTensorsFile) {
        self.file = file
    }

    /// The steps of the node list at `path` (`steps`, `steps[5].body`), `depth` structural steps deep.
    ///
    /// - Throws: ``PackedModelError/invalidStep(file:step:reason:)`` for a missing or out-of-range
    ///   attribute or too deep a nesting; ``PackedModelError/invalidTensor(file:tensor:expected:found:)``
    ///   for a missing tensor, or one of another dtype or shape than the step's attributes require, or
    ///   with bits set past its channels; ``PackedModelError/nonFiniteValue(file:tensor:index:value:)``.
    mutating func steps(from nodes: [PackedGraphNode], path: String, depth: Int = 0) throws -> [ExportStep] {
        var steps: [ExportStep] = []
        for (index, node) in nodes.enumerated() {
            steps.append(try step(from: node, path: "\(path)[\(index)]", depth: depth))
        }
        return steps
    }

    private mutating func step(from node: PackedGraphNode, path: String, depth: Int) throws -> ExportStep {
        func extent(_ value: Int?, _ key: String, minimum: Int = 1) throws -> Int {
            let value = try present(value, key, at: path)
            guard (minimum...Self.maximumExtent).contains(value) else {
                throw PackedModelError.invalidStep(file: file.source, step: path,
                                                   reason: "'\(key)' must be in \(minimum)...\(Self.maximumExtent), found \(value)")
            }
            return value
        }
        if node.kind == .residual || node.kind == .concatenate, depth >= Self.maximumDepth {
            throw PackedModelError.invalidStep(file: file.source, step: path, reason: "nests deeper than \(Self.maximumDepth) levels")
        }
        switch node.kind {
        case .convolution, .binaryConvolution:
            let (input, output) = try (extent(node.inputChannels, "input_channels"), extent(node.outputChannels, "output_channels"))
            let (kernelSize, groups) = try (extent(node.kernelSize, "kernel_size"), extent(node.groups, "groups"))
            let (weight, precision) = try self.weight(of: node, shape: [output, kernelSize, kernelSize, input / groups], path: path)
            let step = ConvolutionStep(
                name: try present(node.name, "name", at: path), weight: weight,
                inputChannels: input, outputChannels: output, kernelSize: kernelSize, stride: try extent(node.stride, "stride"),
                padding: try extent(node.padding, "padding", minimum: 0), groups: groups,
                scale: try floats(node.scale, "scale", [output], path: path),
                shift: try floats(node.shift, "shift", [output], path: path), precision: precision)
            return node.kind == .binaryConvolution ? .binaryConvolution(step) : .convolution(step)
        case .linear, .binaryLinear:
            let (input, output) = try (extent(node.inputFeatures, "input_features"), extent(node.outputFeatures, "output_features"))
            let (weight, precision) = try self.weight(of: node, shape: [output, input], path: path)
            let step = LinearStep(
                name: try present(node.name, "name", at: path), weight: weight,
                inputFeatures: input, outputFeatures: output, scale: try floats(node.scale, "scale", [output], path: path),
                shift: try floats(node.shift, "shift", [output], path: path), precision: precision)
            return node.kind == .binaryLinear ? .binaryLinear(step) : .linear(step)
        case .scaleShift:
            let scale = try floats(node.scale, "scale", nil, path: path)
            return .scaleShift(scale: scale, shift: try floats(node.shift, "shift", [scale.count], path: path))
        case .addBias: return .addBias(try floats(node.bias, "bias", nil, path: path))
        case .prelu: return .prelu(try floats(node.slopes, "slopes", nil, path: path))
        case .sign: return .sign
        case .relu: return .relu
        case .clamp:
            return .clamp(minimum: try present(node.minimum, "minimum", at: path), maximum: try present(node.maximum, "maximum", at: path))
        case .maxPool:
            return .maxPool(kernelSize: try extent(node.kernelSize, "kernel_size"), stride: try extent(node.stride, "stride"),
                            padding: try extent(node.padding, "padding", minimum: 0))
        case .averagePool:
            return .averagePool(kernelSize: try extent(node.kernelSize, "kernel_size"), stride: try extent(node.stride, "stride"),
                                padding: try extent(node.padding, "padding", minimum: 0),
                                ceilMode: try present(node.ceilMode, "ceil_mode", at: path))
        case .globalAveragePool: return .globalAveragePool
        case .flatten: return .flatten
        case .residual:
            return .residual(ResidualStep(
                body: try steps(from: present(node.body, "body", at: path), path: path + ".body", depth: depth + 1),
                shortcut: try steps(from: present(node.shortcut, "shortcut", at: path), path: path + ".shortcut", depth: depth + 1),
                post: try steps(from: present(node.post, "post", at: path), path: path + ".post", depth: depth + 1)))
        case .concatenate:
            var branches: [[ExportStep]] = []
            for (index, branch) in try present(node.branches, "branches", at: path).enumerated() {
                branches.append(try steps(from: branch, path: "\(path).branch[\(index)]", depth: depth + 1))
            }
            return .concatenate(branches)
        }
    }

    /// The weights of a convolution or dense node, of `shape`, and their precision: `F32` or `BF16`
    /// (``BNN/ComputePrecision/bf16``) for a float step; for a binary step its sign bits (set: −1, clear:
    /// +1), 0 where its zero mask is set.
    private mutating func weight(of node: PackedGraphNode, shape: [Int], path: String) throws -> ([Float], ComputePrecision) {
        guard node.kind == .binaryConvolution || node.kind == .binaryLinear else {
            if let name = node.weight, file.contains(name), try file.info(name).dtype == .bfloat16 {
                return (try floats(name, "weight", shape, path: path, dtype: .bfloat16), .bf16)
            }
            return (try floats(node.weight, "weight", shape, path: path), .fp32)
        }
        let channels = shape[shape.count - 1], wordsPerRow = binaryWordCount(channels: channels)
        let byteShape = Array(shape.dropLast()) + [8 * wordsPerRow]
        let signsName = try claim(node.weight, "weight", .uint8, byteShape, path: path)
        let maskName = try node.zeroMask.map { try claim($0, "zero_mask", .uint8, byteShape, path: path) }
        guard channels > 0 else { return ([], .fp32) }
        let signs = try words(signsName), zeros = try maskName.map(words)
        let lastWord = channels % 64 == 0 ? UInt64.max : (1 << UInt64(channels % 64)) - 1
        func invalid(_ name: String, _ row: Int, _ found: String) -> PackedModelError {
            .invalidTensor(file: file.source, tensor: name, expected: "the bits of \(channels) weights per row",
                           found: "\(found) in row \(row)")
        }
        var weights = [Float](repeating: 1, count: signs.count / wordsPerRow * channels)
        for (index, sign) in signs.enumerated() {
            let row = index / wordsPerRow, j = index % wordsPerRow, zero = zeros?[index] ?? 0
            let valid = j == wordsPerRow - 1 ? lastWord : .max
            guard sign & ~valid == 0 else { throw invalid(signsName, row, "bits set past weight \(channels)") }
            if let maskName {
                guard zero & ~valid == 0 else { throw invalid(maskName, row, "bits set past weight \(channels)") }
                guard sign & zero == 0 else { throw invalid(maskName, row, "a weight marked 0 whose sign bit is set") }
            }
            var bits = sign | zero
            while bits != 0 {
                let bit = bits.trailingZeroBitCount
                weights[row * channels + 64 * j + bit] = zero >> UInt64(bit) & 1 == 1 ? 0 : -1
                bits &= bits - 1
            }
        }
        return (weights, .fp32)
    }

    /// The finite `F32` (or `dtype`) tensor that a node's `key` names, of `shape`, or of any rank-1
    /// shape when `shape` is nil.
    private mutating func floats(_ name: String?, _ key: String, _ shape: [Int]?, path: String,
                                 dtype: SafeTensorsDType = .float32) throws -> [Float] {
        let name = try claim(name, key, dtype, shape, path: path)
        let values = try file.tensor(name).scalars
        if let index = values.firstIndex(where: { !$0.isFinite }) {
            throw PackedModelError.nonFiniteValue(file: file.source, tensor: name, index: index, value: values[index])
        }
        return values
    }

    /// The tensor name of a node's `key`, checked to exist with `dtype` and `shape` (nil: any rank-1
    /// shape) and not to belong to another step, then marked used.
    private mutating func claim(_ name: String?, _ key: String, _ dtype: SafeTensorsDType, _ shape: [Int]?,
                                path: String) throws -> String {
        let name = try present(name, key, at: path)
        let expected = "\(dtype.rawValue) " + (shape.map { "\($0)" } ?? "[C]")
        guard file.contains(name) else {
            throw PackedModelError.invalidTensor(file: file.source, tensor: name, expected: expected, found: "no such tensor")
        }
        let info = try file.info(name)
        guard info.dtype == dtype, shape.map({ info.shape == $0 }) ?? (info.shape.count == 1) else {
            throw PackedModelError.invalidTensor(file: file.source, tensor: name, expected: expected,
                                                 found: "\(info.dtype.rawValue) \(info.shape)")
        }
        guard used.insert(name).inserted else {
            throw PackedModelError.invalidStep(file: file.source, step: path, reason: "tensor '\(name)' belongs to an earlier step")
        }
        return name
    }

    /// `value`, or an error naming the step at `path` when the node has no `key`.
    private func present<T>(_ value: T?, _ key: String, at path: String) throws -> T {
        guard let value else { throw PackedModelError.invalidStep(file: file.source, step: path, reason: "has no '\(key)'") }
        return value
    }

    /// The bytes of the tensor `name` as little-endian 64-bit words.
    private func words(_ name: String) throws -> [UInt64] {
        try file.bytes(name).withUnsafeBytes { raw in
            (0..<raw.count / 8).map { UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self)) }
        }
    }

    /// The output shape of `steps` for `input` (of at most ``maximumActivationCount`` values per image),
    /// by ``PlanValidation`` one step at a time, branches first, refusing a step whose output has more
    /// than ``maximumActivationCount`` values per image, so that no size computed on the way can overflow.
    ///
    /// - Throws: ``PlanError`` naming the step.
    static func boundedOutputShape(of steps: [ExportStep], input: [Int], path: String) throws -> [Int] {
        var shape = input
        for (index, step) in steps.enumerated() {
            let stepPath = "\(path)[\(index)]"
            switch step {
            case let .residual(r):
                let body = try boundedOutputShape(of: r.body, input: shape, path: stepPath + ".body")
                _ = try boundedOutputShape(of: r.shortcut, input: shape, path: stepPath + ".shortcut")
                _ = try boundedOutputShape(of: r.post, input: body, path: stepPath + ".post")
            case let .concatenate(branches):
                for (b, branch) in branches.enumerated() {
                    _ = try boundedOutputShape(of: branch, input: shape, path: "\(stepPath).branch[\(b)]")
                }
            default:
                break
            }
            shape = try PlanValidation.outputShape(of: step, input: shape, path: stepPath)
            guard let count = CheckedSize.elementCount(shape), count <= maximumActivationCount else {
                throw PlanError(step: stepPath, reason: "gives \(shape) values, more than the limit of \(maximumActivationCount) per image")
            }
        }
        return shape
    }
}
