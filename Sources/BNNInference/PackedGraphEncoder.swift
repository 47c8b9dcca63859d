import BNN
import BNNKernels
import Foundation

/// Turns a plan into the `graph` nodes and the tensors of a `.bnnpack` file (<doc:PackedModelFormat>):
/// float arrays as `F32` (the weights of a float step in ``BNN/ComputePrecision/bf16`` as `BF16`), the
/// weights of binary steps as their sign bits and, when some weight is 0, a zero mask.
struct PackedGraphEncoder {
    /// One tensor to write: little-endian bytes declared as `dtype` with `shape`.
    struct EncodedTensor {
        var name: String
        var dtype: SafeTensorsDType
        var shape: [Int]
        var bytes: Data
    }

    /// The file being written, for error messages.
    let file: String
    /// The tensors named by the nodes encoded so far.
    private(set) var tensors: [EncodedTensor] = []

    /// Creates an encoder for the file at the path `file`.
    init(file: String) {
        self.file = file
    }

    /// The nodes of the step list at `path` (`steps`, `steps[5].body`), adding the tensors they name.
    ///
    /// - Throws: ``PackedModelError/nonFiniteValue(file:tensor:index:value:)`` for a NaN or infinity in
    ///   an array, ``PackedModelError/invalidStep(file:step:reason:)`` for infinite clamp bounds.
    mutating func nodes(for steps: [ExportStep], path: String) throws -> [PackedGraphNode] {
        var nodes: [PackedGraphNode] = []
        for (index, step) in steps.enumerated() {
            nodes.append(try node(for: step, path: "\(path)[\(index)]"))
        }
        return nodes
    }

    private mutating func node(for step: ExportStep, path: String) throws -> PackedGraphNode {
        let prefix = PackedGraphNode.tensorPrefix(of: path)
        switch step {
        case let .convolution(s), let .binaryConvolution(s):
            let binary = if case .binaryConvolution = step { true } else { false }
            let shape = [s.outputChannels, s.kernelSize, s.kernelSize, s.inputChannels / s.groups]
            let (weight, zeroMask) = try binary ? signs(prefix, s.weight, shape)
                : (floats(prefix, "weight", s.weight, shape, as: s.precision), nil)
            return PackedGraphNode(
                kind: binary ? .binaryConvolution : .convolution, name: s.name, inputChannels: s.inputChannels,
                outputChannels: s.outputChannels, kernelSize: s.kernelSize, stride: s.stride, padding: s.padding, groups: s.groups,
                weight: weight, zeroMask: zeroMask, scale: try floats(prefix, "scale", s.scale, [s.outputChannels]),
                shift: try floats(prefix, "shift", s.shift, [s.outputChannels]))
        case let .linear(s), let .binaryLinear(s):
            let binary = if case .binaryLinear = step { true } else { false }
            let shape = [s.outputFeatures, s.inputFeatures]
            let (weight, zeroMask) = try binary ? signs(prefix, s.weight, shape)
                : (floats(prefix, "weight", s.weight, shape, as: s.precision), nil)
            return PackedGraphNode(
                kind: binary ? .binaryLinear : .linear, name: s.name, inputFeatures: s.inputFeatures,
                outputFeatures: s.outputFeatures, weight: weight, zeroMask: zeroMask,
                scale: try floats(prefix, "scale", s.scale, [s.outputFeatures]),
                shift: try floats(prefix, "shift", s.shift, [s.outputFeatures]))
        case let .scaleShift(scale, shift):
            return PackedGraphNode(kind: .scaleShift, scale: try floats(prefix, "scale", scale, [scale.count]),
                                   shift: try floats(prefix, "shift", shift, [shift.count]))
        case let .addBias(bias):
            return PackedGraphNode(kind: .addBias, bias: try floats(prefix, "bias", bias, [bias.count]))
        case let .prelu(slopes):
            return PackedGraphNode(kind: .prelu, slopes: try floats(prefix, "slopes", slopes, [slopes.count]))
        case let .clamp(minimum, maximum):
            guard minimum.isFinite, maximum.isFinite else {
                throw PackedModelError.invalidStep(file: file, step: path,
                                                   reason: "clamp bounds must be finite, found \(minimum) and \(maximum)")
            }
            return PackedGraphNode(kind: .clamp, minimum: minimum, maximum: maximum)
        case let .maxPool(kernelSize, stride, padding):
            return PackedGraphNode(kind: .maxPool, kernelSize: kernelSize, stride: stride, padding: padding)
        case let .averagePool(kernelSize, stride, padding, ceilMode):
            return PackedGraphNode(kind: .averagePool, kernelSize: kernelSize, stride: stride, padding: padding, ceilMode: ceilMode)
        case .sign: return PackedGraphNode(kind: .sign)
        case .relu: return PackedGraphNode(kind: .relu)
        case .globalAveragePool: return PackedGraphNode(kind: .globalAveragePool)
        case .flatten: return PackedGraphNode(kind: .flatten)
        case let .residual(r):
            return PackedGraphNode(kind: .residual, body: try nodes(for: r.body, path: path + ".body"),
                                   shortcut: try nodes(for: r.shortcut, path: path + ".shortcut"),
                                   post: try nodes(for: r.post, path: path + ".post"))
        case let .concatenate(branches):
            var nodes: [[PackedGraphNode]] = []
            for (index, branch) in branches.enumerated() {
                nodes.append(try self.nodes(for: branch, path: "\(path).branch[\(index)]"))
            }
            return PackedGraphNode(kind: .concatenate, branches: nodes)
        }
    }

    /// Adds `prefix.key`, an `F32` tensor of `shape` (`BF16`, each value rounded to the nearest, in
    /// ``BNN/ComputePrecision/bf16``), and returns its name.
    private mutating func floats(_ prefix: String, _ key: String, _ values: [Float], _ shape: [Int],
                                 as precision: ComputePrecision = .fp32) throws -> String {
        let name = "\(prefix).\(key)"
        if let index = values.firstIndex(where: { !$0.isFinite }) {
            throw PackedModelError.nonFiniteValue(file: file, tensor: name, index: index, value: values[index])
        }
        let bytes = switch precision {
        case .fp32: values.map(\.bitPattern.littleEndian).withUnsafeBytes { Data($0) }
        case .bf16: values.map { bnn_bf16_from_float($0).littleEndian }.withUnsafeBytes { Data($0) }
        }
        tensors.append(EncodedTensor(name: name, dtype: precision == .bf16 ? .bfloat16 : .float32, shape: shape, bytes: bytes))
        return name
    }

    /// Adds the sign bits of binary weights of `shape` (the last axis packed into 64-bit words) as
    /// `prefix.weight` and, when some weight is 0, their zero mask as `prefix.weight_zero_mask`;
    /// returns the two names.
    private mutating func signs(_ prefix: String, _ weights: [Float], _ shape: [Int]) throws -> (String, String?) {
        let channels = shape[shape.count - 1], rows = weights.count / channels
        let packed = try PackedWeights.signWords(of: Tensor(shape: [rows, 1, 1, channels], scalars: weights))
        let byteShape = Array(shape.dropLast()) + [8 * binaryWordCount(channels: channels)]
        func add(_ name: String, _ words: [UInt64]) -> String {
            tensors.append(EncodedTensor(name: name, dtype: .uint8, shape: byteShape,
                                         bytes: words.map(\.littleEndian).withUnsafeBytes { Data($0) }))
            return name
        }
        return (add("\(prefix).weight", packed.signs), packed.zeroMask.map { add("\(prefix).weight_zero_mask", $0) })
    }
}
