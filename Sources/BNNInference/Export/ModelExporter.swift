import BNN
import Foundation

/// A layer of the user's own that takes part in export by lowering itself into existing steps.
///
/// ```swift
/// extension MyBlock: ExportableLayer {
///     func exportSteps(path: String, exporter: ModelExporter) throws -> [ExportStep] {
///         try exporter.steps(for: inner, path: path + ".inner") + [.relu]
///     }
/// }
/// ```
public protocol ExportableLayer: TensorLayer {
    /// The steps equivalent to this layer's evaluation-mode forward pass.
    ///
    /// - Parameters:
    ///   - path: The layer's name in the model tree, for error messages.
    ///   - exporter: Lowers child layers (``ModelExporter/steps(for:path:)``).
    func exportSteps(path: String, exporter: ModelExporter) throws -> [ExportStep]
}

/// A layer that the exporter cannot lower.
public struct ExportError: Error, Equatable, Sendable, CustomStringConvertible, LocalizedError {
    /// The layer's name in the model tree (`features.3`), or `model` for the root.
    public var path: String
    /// The layer's type name.
    public var typeName: String
    /// Why the layer cannot be exported.
    public var reason: String

    /// Creates the error.
    public init(path: String, typeName: String, reason: String) {
        self.path = path
        self.typeName = typeName
        self.reason = reason
    }

    /// E.g. `features.3: MyAttention cannot be exported: no export rule …`.
    public var description: String { "\(path): \(typeName) cannot be exported: \(reason)" }

    /// Same as ``description``.
    public var errorDescription: String? { description }
}

/// Lowers a module tree built from the library's layers into a plan of ``ExportStep``s.
///
/// Every layer type of `BNN` has an unfused step; then, by pattern and not by model name, a BatchNorm
/// directly after a convolution or dense layer (float or binary) is folded with the layer's α and bias
/// into one per-channel multiply-add. `Identity` and `DropPath` vanish (identity at inference).
/// A layer of another type must conform to ``ExportableLayer``.
public struct ModelExporter: Sendable {
    /// Creates an exporter.
    public init() {}

    /// The plan of a whole model (evaluation semantics: BatchNorm with running statistics).
    public func plan(for model: any TensorLayer) throws -> [ExportStep] {
        try steps(for: model, path: "model")
    }

    /// The steps of one layer of the tree at `path`, folded.
    public func steps(for layer: any TensorLayer, path: String) throws -> [ExportStep] {
        Self.folded(try unfusedSteps(for: layer, path: path))
    }

    private func child(_ path: String, _ name: String) -> String {
        name.isEmpty ? path : (path == "model" ? name : "\(path).\(name)")
    }

    private func unsupported(_ layer: any TensorLayer, _ path: String, _ reason: String) -> ExportError {
        ExportError(path: path, typeName: String(describing: type(of: layer)), reason: reason)
    }

    private func unfusedSteps(for layer: any TensorLayer, path: String) throws -> [ExportStep] {
        switch layer {
        case let layer as any ExportableLayer:
            return try layer.exportSteps(path: path, exporter: self)
        case let pipeline as any LayerPipeline:
            return try pipeline.pipelineLayers.flatMap { try steps(for: $0.layer, path: child(path, $0.name)) }
        case let block as Residual:
            return [.residual(ResidualStep(
                body: try steps(for: block.body, path: path),
                shortcut: try block.shortcut.map { try steps(for: $0, path: child(path, block.shortcutName)) } ?? [],
                post: try block.post.map { try steps(for: $0, path: child(path, block.postName)) } ?? []))]
        case let concatenation as Concatenate:
            return [.concatenate(try concatenation.branches.map { try steps(for: $0.layer, path: child(path, $0.name)) })]
        case let conv as Conv2D:
            if let quantizer = conv.weightQuantizer {
                throw unsupported(conv, path, "its weight quantizer \(type(of: quantizer)) has no export rule")
            }
            return [.convolution(ConvolutionStep(
                name: path, weight: conv.weight.value.scalars, inputChannels: conv.inputChannels, outputChannels: conv.outputChannels,
                kernelSize: conv.kernelSize, stride: conv.stride, padding: conv.padding, groups: conv.groups,
                scale: [Float](repeating: 1, count: conv.outputChannels),
                shift: conv.bias?.value.scalars ?? [Float](repeating: 0, count: conv.outputChannels)))]
        case let conv as BinaryConv2D:
            let binaryInput = conv.inputQuantizer != nil
            let step = ConvolutionStep(
                name: path, weight: Self.weight(of: conv.weight, binaryInput: binaryInput),
                inputChannels: conv.inputChannels, outputChannels: conv.outputChannels, kernelSize: conv.kernelSize,
                stride: conv.stride, padding: conv.padding, groups: conv.groups, scale: conv.outputScale(),
                shift: [Float](repeating: 0, count: conv.outputChannels))
            return [binaryInput ? .binaryConvolution(step) : .convolution(step)]
        case let dense as Linear:
            if let quantizer = dense.weightQuantizer {
                throw unsupported(dense, path, "its weight quantizer \(type(of: quantizer)) has no export rule")
            }
            return [.linear(LinearStep(
                name: path, weight: dense.weight.value.scalars, inputFeatures: dense.inputFeatures, outputFeatures: dense.outputFeatures,
                scale: [Float](repeating: 1, count: dense.outputFeatures),
                shift: dense.bias?.value.scalars ?? [Float](repeating: 0, count: dense.outputFeatures)))]
        case let dense as BinaryLinear:
            let binaryInput = dense.inputQuantizer != nil
            let step = LinearStep(
                name: path, weight: Self.weight(of: dense.weight, binaryInput: binaryInput),
                inputFeatures: dense.inputFeatures, outputFeatures: dense.outputFeatures, scale: dense.outputScale(),
                shift: [Float](repeating: 0, count: dense.outputFeatures))
            return [binaryInput ? .binaryLinear(step) : .linear(step)]
        case let norm as BatchNorm2D:
            let (scale, shift) = Self.batchNormAffine(norm)
            return [.scaleShift(scale: scale, shift: shift)]
        case let bias as LearnableBias:
            return [.addBias(bias.bias.value.scalars)]
        case is SignActivation:
            return [.sign]
        case is ReLU:
            return [.relu]
        case let prelu as PReLU:
            return [.prelu(prelu.weight.value.scalars)]
        case let clamp as HardTanh:
            return [.clamp(minimum: clamp.minimum, maximum: clamp.maximum)]
        case let pool as MaxPool2D:
            return [.maxPool(kernelSize: pool.kernelSize, stride: pool.stride, padding: pool.padding)]
        case let pool as AvgPool2D:
            return [.averagePool(kernelSize: pool.kernelSize, stride: pool.stride, padding: pool.padding,
                                 ceilMode: pool.ceilMode)]
        case is GlobalAvgPool:
            return [.globalAveragePool]
        case is Flatten:
            return [.flatten]
        case is Identity:
            return []
        default:
            throw unsupported(layer, path, "no export rule; conform it to ExportableLayer to lower it into existing steps")
        }
    }

    /// A binary layer's weights as its step takes them: latent (the binary kernel takes their signs)
    /// with a sign before the layer, else their signs sign(w) (sign(0) = 0) for a float step.
    private static func weight(of parameter: Parameter, binaryInput: Bool) -> [Float] {
        let latent = parameter.value.scalars
        return binaryInput ? latent : latent.map { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }
    }

    /// BatchNorm in evaluation mode as `y = scale · x + shift` (running statistics).
    static func batchNormAffine(_ norm: BatchNorm2D) -> (scale: [Float], shift: [Float]) {
        let gamma = norm.weight.value.scalars, beta = norm.bias.value.scalars
        let mean = norm.runningMean.value.scalars, variance = norm.runningVariance.value.scalars
        var scale = [Float](repeating: 0, count: norm.channels), shift = scale
        for c in 0..<norm.channels {
            scale[c] = gamma[c] / (variance[c] + norm.epsilon).squareRoot()
            shift[c] = beta[c] - mean[c] * scale[c]
        }
        return (scale, shift)
    }

    /// Folds each `scaleShift` directly after a convolution or dense layer into its epilogue, and one
    /// directly before a float dense layer (a BatchNorm before the classifier) into its weights.
    static func folded(_ steps: [ExportStep]) -> [ExportStep] {
        var result: [ExportStep] = []
        for step in steps {
            if case let .scaleShift(scale, shift) = step, let last = result.last,
               let merged = last.withEpilogue(scale: scale, shift: shift) {
                result[result.count - 1] = merged
            } else if case let .linear(dense) = step, case let .scaleShift(scale, shift)? = result.last,
                      scale.count == dense.inputFeatures {
                result[result.count - 1] = .linear(dense.withInputAffine(scale: scale, shift: shift))
            } else {
                result.append(step)
            }
        }
        return result
    }
}

extension ExportStep {
    /// This step followed by `y = scale · x + shift`, if its epilogue can absorb it.
    fileprivate func withEpilogue(scale: [Float], shift: [Float]) -> ExportStep? {
        func compose(_ a: inout [Float], _ b: inout [Float]) -> Bool {
            guard a.count == scale.count else { return false }
            for c in a.indices {
                a[c] *= scale[c]
                b[c] = b[c] * scale[c] + shift[c]
            }
            return true
        }
        switch self {
        case var .convolution(s): return compose(&s.scale, &s.shift) ? .convolution(s) : nil
        case var .binaryConvolution(s): return compose(&s.scale, &s.shift) ? .binaryConvolution(s) : nil
        case var .linear(s): return compose(&s.scale, &s.shift) ? .linear(s) : nil
        case var .binaryLinear(s): return compose(&s.scale, &s.shift) ? .binaryLinear(s) : nil
        default: return nil
        }
    }
}

extension LinearStep {
    /// This layer applied to `scale · x + shift` (per input feature): `W'[o, i] = W[o, i]·scale[i]` and
    /// `shift'[o] = shift[o] + scale[o]·Σᵢ W[o, i]·shift[i]` (the sum in `Double`).
    fileprivate func withInputAffine(scale inputScale: [Float], shift inputShift: [Float]) -> LinearStep {
        var result = self
        let f = inputFeatures
        for o in 0..<outputFeatures {
            var extra = 0.0
            for i in 0..<f {
                extra += Double(weight[o * f + i]) * Double(inputShift[i])
                result.weight[o * f + i] = weight[o * f + i] * inputScale[i]
            }
            result.shift[o] = Float(Double(shift[o]) + Double(scale[o]) * extra)
        }
        return result
    }
}
