import BiRealNet
import BNN

/// Freezes a trained ``BiRealNet`` into a ``PackedModel``: binary weights packed to one bit, α and
/// every BatchNorm folded (evaluation-mode statistics), residual add and HardTanh left to the binary
/// convolution's epilogue.
///
/// ```swift
/// let model = BiRealNet(.birealnet34(classes: 1000))
/// try model.loadWeights(from: checkpointURL)
/// let export = try BiRealNetExport.export(model, classNames: names)
/// try export.model.write(to: URL(fileURLWithPath: "birealnet34.bnnpack"))
/// ```
public enum BiRealNetExport {
    /// The result of an export: the model and what could not be represented exactly.
    public struct Result: Sendable {
        /// The frozen model.
        public let model: PackedModel
        /// Latent binary weights that were exactly 0 (sign 0 in the float model), packed as +1.
        public let zeroWeights: Int
    }

    /// A model that does not have the layer structure ``BiRealNet`` builds, or class names that do not fit.
    public enum Error: Swift.Error, Equatable, CustomStringConvertible {
        /// A layer is missing or of another kind; `path` names it (e.g. `layer2.0.downsample`).
        case unexpectedLayer(path: String, expected: String)
        /// The number of class names differs from the classifier's outputs.
        case classNameCount(expected: Int, found: Int)
        /// The input size is not positive.
        case invalidInputSize(height: Int, width: Int)

        /// A sentence naming the layer or count.
        public var description: String {
            switch self {
            case let .unexpectedLayer(path, expected): return "export: layer '\(path)' must be \(expected)"
            case let .classNameCount(expected, found): return "export: \(expected) class names expected, found \(found)"
            case let .invalidInputSize(h, w): return "export: input size must be positive, found \(h)×\(w)"
            }
        }
    }

    /// Exports `model` with its current weights and BatchNorm running statistics.
    ///
    /// - Parameters:
    ///   - model: the trained model; its evaluation-mode BatchNorm statistics are folded.
    ///   - classNames: one name per class (nil: `class0`, `class1`, …).
    ///   - inputHeight: the image height in pixels the engine will accept (nil: 224 for the ImageNet
    ///     stem, 32 for the small stem).
    ///   - inputWidth: the image width in pixels, with the same default.
    /// - Throws: ``Error`` when the model's layers are not those of ``BiRealNet`` or the names do not fit.
    public static func export(_ model: BiRealNet, classNames: [String]? = nil, inputHeight: Int? = nil,
                              inputWidth: Int? = nil) throws -> Result {
        let c = model.configuration
        let names = classNames ?? (0..<c.classes).map { "class\($0)" }
        guard names.count == c.classes else { throw Error.classNameCount(expected: c.classes, found: names.count) }
        let defaultSize = c.stem == .imagenet ? 224 : 32
        let (height, width) = (inputHeight ?? defaultSize, inputWidth ?? defaultSize)
        guard height > 0, width > 0 else { throw Error.invalidInputSize(height: height, width: width) }

        let stemFold = FoldedConvolution.fold(weight: model.conv1.weight.value.scalars, outputChannels: model.conv1.outputChannels,
                                              batchNorm: model.bn1)
        let stem = FoldedConvolution(outputChannels: model.conv1.outputChannels, inputChannels: model.conv1.inputChannels,
                                     kernelSize: model.conv1.kernelSize, stride: model.conv1.stride,
                                     padding: model.conv1.padding, weight: stemFold.weight, bias: stemFold.shift)
        var blocks: [PackedBlock] = []
        var zeroWeights = 0
        for (s, stage) in model.stages.enumerated() {
            for (blockName, layer) in stage.layers {
                let path = "layer\(s + 1).\(blockName)"
                let (block, zeros) = try exportBlock(layer, path: path)
                blocks.append(block)
                zeroWeights += zeros
            }
        }
        var fcWeight = model.fc.weight.value.scalars
        var fcBias = model.fc.bias?.value.scalars ?? [Float](repeating: 0, count: model.fc.outputFeatures)
        if let bn2 = model.bn2 {
            let (scale, shift) = FoldedConvolution.batchNormAffine(bn2)
            let f = model.fc.inputFeatures
            for k in 0..<model.fc.outputFeatures {
                var extra = 0.0
                for i in 0..<f {
                    extra += Double(fcWeight[k * f + i]) * Double(shift[i])
                    fcWeight[k * f + i] *= scale[i]
                }
                fcBias[k] = Float(Double(fcBias[k]) + extra)
            }
        }
        let classifier = FoldedLinear(inputFeatures: model.fc.inputFeatures, outputFeatures: model.fc.outputFeatures,
                                      weight: fcWeight, bias: fcBias)
        let packed = PackedModel(configuration: c, inputHeight: height, inputWidth: width, classNames: names, stem: stem,
                                 blocks: blocks, classifier: classifier)
        return Result(model: packed, zeroWeights: zeroWeights)
    }

    /// One residual block: `Residual(body: [binary_conv, bn1], shortcut: [AvgPool, Conv 1×1, BatchNorm]?, post: HardTanh?)`.
    private static func exportBlock(_ layer: any TensorLayer, path: String) throws -> (PackedBlock, Int) {
        guard let residual = layer as? Residual else { throw Error.unexpectedLayer(path: path, expected: "a Residual block") }
        let body = Dictionary(residual.body.children.map { ($0.name, $0.module) }, uniquingKeysWith: { a, _ in a })
        guard let conv = body["binary_conv"] as? BinaryConv2D else {
            throw Error.unexpectedLayer(path: "\(path).binary_conv", expected: "a BinaryConv2D")
        }
        guard let bn = body["bn1"] as? BatchNorm2D else { throw Error.unexpectedLayer(path: "\(path).bn1", expected: "a BatchNorm2D") }
        var clamp: ClosedRange<Float>?
        if let post = residual.post {
            guard let hardTanh = post as? HardTanh else { throw Error.unexpectedLayer(path: "\(path).post", expected: "a HardTanh") }
            clamp = hardTanh.minimum...hardTanh.maximum
        }
        var transform = BinaryOutputTransform.folding(
            alpha: conv.outputScale(), gamma: bn.weight.value.scalars, beta: bn.bias.value.scalars,
            runningMean: bn.runningMean.value.scalars, runningVariance: bn.runningVariance.value.scalars,
            epsilon: bn.epsilon, clamp: clamp)
        var downsample: FoldedConvolution?
        if let shortcut = residual.shortcut {
            let expected = "Sequential[AvgPool2D(stride \(conv.stride), ceil), Conv2D 1×1, BatchNorm2D]"
            guard let sequence = shortcut as? Sequential, sequence.layers.count == 3,
                  let pool = sequence.layers[0].layer as? AvgPool2D, let pointwise = sequence.layers[1].layer as? Conv2D,
                  let shortcutBN = sequence.layers[2].layer as? BatchNorm2D,
                  pool.kernelSize == conv.stride, pool.stride == conv.stride, pool.padding == 0, pool.ceilMode,
                  pointwise.kernelSize == 1, pointwise.stride == 1, pointwise.padding == 0, pointwise.bias == nil
            else { throw Error.unexpectedLayer(path: "\(path).downsample", expected: expected) }
            let fold = FoldedConvolution.fold(weight: pointwise.weight.value.scalars, outputChannels: pointwise.outputChannels,
                                              batchNorm: shortcutBN)
            downsample = FoldedConvolution(outputChannels: pointwise.outputChannels, inputChannels: pointwise.inputChannels,
                                           kernelSize: 1, stride: 1, padding: 0, weight: fold.weight, bias: nil)
            transform.bias = zip(transform.bias ?? [], fold.shift).map { $0 + $1 }
        } else if conv.stride != 1 || conv.inputChannels != conv.outputChannels {
            throw Error.unexpectedLayer(path: "\(path).downsample", expected: "present when the stride or width changes")
        }
        let (binary, zeros) = PackedBinaryConvolution.packing(conv.weight.value, stride: conv.stride, padding: conv.padding,
                                                              transform: transform)
        return (PackedBlock(name: path, binary: binary, downsample: downsample), zeros)
    }
}
