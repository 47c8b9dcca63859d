import BNN

/// One step of an exported plan: the graph IR that ``ModelExporter`` produces from a module tree.
///
/// Steps run in order on channels-last (N×H×W×C) activations. Convolutions and dense layers carry a
/// per-output-channel multiply-add epilogue (`y = scale · acc + shift`) into which the exporter folds
/// a binary layer's α, a bias and a following BatchNorm. Structural steps (``residual(_:)``,
/// ``concatenate(_:)``) hold their branches as nested step lists.
public indirect enum ExportStep: Equatable, Sendable {
    /// A float convolution (`Conv2D`, grouped or depthwise) with its epilogue.
    case convolution(ConvolutionStep)
    /// A binary convolution (`BinaryConv2D`): `conv(sign(x), sign(W))` with its epilogue.
    case binaryConvolution(ConvolutionStep)
    /// A float dense layer (`Linear`) on N×F input, with its epilogue.
    case linear(LinearStep)
    /// A binary dense layer (`BinaryLinear`) with its epilogue.
    case binaryLinear(LinearStep)
    /// A per-channel multiply-add that no convolution could absorb (an unfused BatchNorm).
    case scaleShift(scale: [Float], shift: [Float])
    /// A per-channel addition (`LearnableBias`).
    case addBias([Float])
    /// `sign(x)` with sign(0) = 0 (`SignActivation`).
    case sign
    /// `max(x, 0)`.
    case relu
    /// Per-channel PReLU with the given slopes.
    case prelu([Float])
    /// `min(max(x, minimum), maximum)` (`HardTanh`).
    case clamp(minimum: Float, maximum: Float)
    /// Max pooling.
    case maxPool(kernelSize: Int, stride: Int, padding: Int)
    /// Average pooling (padding counted as zeros, as in PyTorch's default).
    case averagePool(kernelSize: Int, stride: Int, padding: Int, ceilMode: Bool)
    /// Mean over H and W, giving N×C.
    case globalAveragePool
    /// N×H×W×C to N×(H·W·C).
    case flatten
    /// `post(body(x) + shortcut(x))`; an empty shortcut is the identity.
    case residual(ResidualStep)
    /// The branches applied to the same input, concatenated along channels.
    case concatenate([[ExportStep]])
}

/// A convolution of an exported plan, float or binary.
public struct ConvolutionStep: Equatable, Sendable {
    /// The layer's path in the model tree (`layer2.0.binary_conv`), for profiles and messages; may be empty.
    public var name: String
    /// The latent weights, O×KH×KW×(I/groups) (only their signs count for a binary convolution).
    public var weight: [Float]
    /// Input channels.
    public var inputChannels: Int
    /// Output channels.
    public var outputChannels: Int
    /// Square kernel side.
    public var kernelSize: Int
    /// Stride.
    public var stride: Int
    /// Zero padding on each side.
    public var padding: Int
    /// Channel groups (the input channels for a depthwise convolution).
    public var groups: Int
    /// Epilogue multiplier per output channel.
    public var scale: [Float]
    /// Epilogue offset per output channel.
    public var shift: [Float]
    /// The operand precision of a float convolution's product: ``BNN/ComputePrecision/bf16`` keeps its
    /// weights as bfloat16 (in the plan they are already rounded, in a `.bnnpack` file they are
    /// stored as `BF16`) and rounds its input to bfloat16. Binary steps ignore it.
    public var precision: ComputePrecision

    /// Creates a convolution step.
    public init(name: String = "", weight: [Float], inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int,
                padding: Int, groups: Int, scale: [Float], shift: [Float], precision: ComputePrecision = .fp32) {
        self.precision = precision
        self.name = name
        self.weight = weight
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        self.groups = groups
        self.scale = scale
        self.shift = shift
    }
}

/// A dense layer of an exported plan, float or binary.
public struct LinearStep: Equatable, Sendable {
    /// The layer's path in the model tree (`fc`), for profiles and messages; may be empty.
    public var name: String
    /// The latent weights, O×I row-major.
    public var weight: [Float]
    /// Input features.
    public var inputFeatures: Int
    /// Output features.
    public var outputFeatures: Int
    /// Epilogue multiplier per output.
    public var scale: [Float]
    /// Epilogue offset per output.
    public var shift: [Float]
    /// The operand precision of a float dense layer's product (see ``ConvolutionStep/precision``).
    public var precision: ComputePrecision

    /// Creates a dense step.
    public init(name: String = "", weight: [Float], inputFeatures: Int, outputFeatures: Int, scale: [Float], shift: [Float],
                precision: ComputePrecision = .fp32) {
        self.precision = precision
        self.name = name
        self.weight = weight
        self.inputFeatures = inputFeatures
        self.outputFeatures = outputFeatures
        self.scale = scale
        self.shift = shift
    }
}

/// A residual block of an exported plan.
public struct ResidualStep: Equatable, Sendable {
    /// The main path.
    public var body: [ExportStep]
    /// The shortcut path; empty for the identity.
    public var shortcut: [ExportStep]
    /// Applied to the sum; empty for none.
    public var post: [ExportStep]

    /// Creates a residual step.
    public init(body: [ExportStep], shortcut: [ExportStep], post: [ExportStep]) {
        self.body = body
        self.shortcut = shortcut
        self.post = post
    }
}

extension ExportStep {
    /// The step with `transform` applied to every step inside it (residual paths, concatenation
    /// branches), innermost first, and then to itself.
    public func mapped(_ transform: (ExportStep) -> ExportStep) -> ExportStep {
        switch self {
        case var .residual(r):
            r.body = r.body.map { $0.mapped(transform) }
            r.shortcut = r.shortcut.map { $0.mapped(transform) }
            r.post = r.post.map { $0.mapped(transform) }
            return transform(.residual(r))
        case let .concatenate(branches):
            return transform(.concatenate(branches.map { $0.map { $0.mapped(transform) } }))
        default:
            return transform(self)
        }
    }
}
