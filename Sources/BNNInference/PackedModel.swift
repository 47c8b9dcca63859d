import BNN

/// A trained network frozen for inference: its plan of fused ``ExportStep``s (binary weights reduced
/// to their signs, α, biases and BatchNorms folded into multiply-adds), the input it takes, its
/// class names and how its images are prepared. ``InferenceEngine`` runs it; ``write(to:)`` and
/// ``init(contentsOf:)`` store it as a `.bnnpack` file (<doc:PackedModelFormat>).
///
/// ```swift
/// let packed = try PackedModel(exporting: model, inputHeight: 32, inputWidth: 32, classNames: names)
/// try packed.write(to: URL(fileURLWithPath: "model.bnnpack"))
/// let engine = try InferenceEngine(contentsOf: URL(fileURLWithPath: "model.bnnpack"))
/// ```
public struct PackedModel: Sendable, Equatable {
    /// The value of the `format` metadata.
    public static let formatName = "bnn-packed-model"
    /// The format version this library writes and reads.
    public static let formatVersion = 2

    /// The steps, in order, from the N×H×W×C input to the N×K logits.
    public let steps: [ExportStep]
    /// Input image height in pixels.
    public let inputHeight: Int
    /// Input image width in pixels.
    public let inputWidth: Int
    /// Input channels (3 for RGB images).
    public let inputChannels: Int
    /// One name per class, in label order.
    public let classNames: [String]
    /// A free description of the network it was exported from, e.g. `birealnet34 (reference, imagenet stem)`.
    public let architecture: String
    /// How images are prepared for the model, as entries the engine does not read: `birealnet-export`
    /// stores the crop fraction and resize filter training validated with (`crop_pct`,
    /// `eval_interpolation`), so that programs evaluate the model the same way; empty when unknown.
    public let preprocessing: [String: String]

    /// Assembles a model from a plan, checking that the plan maps the input to one logit per class.
    ///
    /// The weights of binary steps are kept as their signs (−1, 0, +1): only those reach the kernels.
    ///
    /// - Parameters:
    ///   - steps: The plan, e.g. from ``ModelExporter/plan(for:)``.
    ///   - inputHeight: The image height the plan takes.
    ///   - inputWidth: The image width the plan takes.
    ///   - inputChannels: The image channels (3 for RGB).
    ///   - classNames: One name per logit.
    ///   - architecture: A free description of the network.
    ///   - preprocessing: How images are prepared for the model (``preprocessing``).
    /// - Throws: ``PlanError`` naming the step that does not fit, or the end of the plan when it does
    ///   not give N×`classNames.count` values.
    public init(steps: [ExportStep], inputHeight: Int, inputWidth: Int, inputChannels: Int = 3, classNames: [String],
                architecture: String = "", preprocessing: [String: String] = [:]) throws {
        guard inputHeight > 0, inputWidth > 0, inputChannels > 0 else {
            throw PlanError(step: "input", reason: "the input size must be positive, found \(inputHeight)×\(inputWidth)×\(inputChannels)")
        }
        let output = try PlanValidation.outputShape(of: steps, input: [1, inputHeight, inputWidth, inputChannels])
        guard output == [1, classNames.count] else {
            throw PlanError(step: "output", reason: "the plan gives \(output.dropFirst()) values per image, "
                                + "\(classNames.count) class names expected one each")
        }
        self.steps = steps.map(Self.storedForm)
        self.inputHeight = inputHeight
        self.inputWidth = inputWidth
        self.inputChannels = inputChannels
        self.classNames = classNames
        self.architecture = architecture
        self.preprocessing = preprocessing
    }

    /// Exports `model` (evaluation semantics) with ``ModelExporter`` and assembles it.
    ///
    /// - Parameters:
    ///   - model: The trained model; its BatchNorm running statistics are folded.
    ///   - inputHeight: The image height the packed model will take.
    ///   - inputWidth: The image width the packed model will take.
    ///   - inputChannels: The image channels (3 for RGB).
    ///   - classNames: One name per output; nil: `class0`, `class1`, ….
    ///   - architecture: A free description of the network, kept in the file.
    ///   - preprocessing: How images are prepared for the model (``preprocessing``), kept in the file.
    ///   - floatPrecision: The precision of the float layers (the stem, shortcuts, classifier):
    ///     ``BNN/ComputePrecision/bf16`` keeps their weights as bfloat16, half the bytes, and the engine
    ///     multiplies them with bfloat16-rounded inputs where the CPU has bfloat16 instructions.
    ///   - floatLayers: The float layers `floatPrecision` applies to: those whose path contains one of
    ///     these texts (`["fc"]`: the classifier, the only float layer after the last sign, whose
    ///     rounding cannot flip a binary layer's input); nil for all. The others stay single precision.
    /// - Throws: ``ExportError`` for a layer the exporter cannot lower, ``PlanError`` when the plan
    ///   does not fit the input size or the class names, or `floatLayers` names no float layer.
    public init(exporting model: any TensorLayer, inputHeight: Int, inputWidth: Int, inputChannels: Int = 3,
                classNames: [String]? = nil, architecture: String = "", preprocessing: [String: String] = [:],
                floatPrecision: ComputePrecision = .fp32, floatLayers: [String]? = nil) throws {
        var floatNames: [String] = []
        let steps = try ModelExporter().plan(for: model).map { step in
            step.mapped { step in
                if case let .convolution(s) = step { floatNames.append(s.name) }
                if case let .linear(s) = step { floatNames.append(s.name) }
                switch step {
                case var .convolution(s) where Self.selects(floatLayers, s.name):
                    s.precision = floatPrecision
                    return .convolution(s)
                case var .linear(s) where Self.selects(floatLayers, s.name):
                    s.precision = floatPrecision
                    return .linear(s)
                default:
                    return step
                }
            }
        }
        if let floatLayers, !floatNames.contains(where: { Self.selects(floatLayers, $0) }) {
            throw PlanError(step: "floatLayers", reason: "no float layer's name contains "
                                + floatLayers.map { "'\($0)'" }.joined(separator: " or ")
                                + "; the float layers are " + floatNames.joined(separator: ", "))
        }
        let names: [String]
        if let classNames {
            names = classNames
        } else {
            let shape = try PlanValidation.outputShape(of: steps, input: [1, inputHeight, inputWidth, inputChannels])
            names = (0..<(shape.count == 2 ? shape[1] : 0)).map { "class\($0)" }
        }
        try self.init(steps: steps, inputHeight: inputHeight, inputWidth: inputWidth, inputChannels: inputChannels,
                      classNames: names, architecture: architecture, preprocessing: preprocessing)
    }

    /// Whether the layer at `path` is one of `layers` (its path contains one of them; nil: every layer).
    private static func selects(_ layers: [String]?, _ path: String) -> Bool {
        layers.map { $0.contains(where: path.contains) } ?? true
    }

    /// A step as a file stores it: binary weights replaced by their signs (sign(0) = 0), the weights
    /// of float steps in ``BNN/ComputePrecision/bf16`` rounded to bfloat16; other steps unchanged.
    private static func storedForm(_ step: ExportStep) -> ExportStep {
        func sign(_ v: Float) -> Float { v > 0 ? 1 : (v < 0 ? -1 : 0) }
        func rounded(_ weights: [Float], _ precision: ComputePrecision) -> [Float] {
            precision == .bf16 ? weights.map(BFloat16GEMM.rounded) : weights
        }
        return step.mapped { step in
            switch step {
            case var .binaryConvolution(s):
                s.weight = s.weight.map(sign)
                return .binaryConvolution(s)
            case var .binaryLinear(s):
                s.weight = s.weight.map(sign)
                return .binaryLinear(s)
            case var .convolution(s):
                s.weight = rounded(s.weight, s.precision)
                return .convolution(s)
            case var .linear(s):
                s.weight = rounded(s.weight, s.precision)
                return .linear(s)
            default:
                return step
            }
        }
    }

    /// Logits per image.
    public var classCount: Int { classNames.count }
}
