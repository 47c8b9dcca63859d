/// How a forward pass runs.
///
/// Training and evaluation differ for BatchNorm (batch vs running statistics) and for the
/// variance-normalised sign activation; recording for backward is separate, so an evaluation pass
/// can still be differentiated and inference keeps no activations alive.
public struct ForwardMode: Sendable, Equatable {
    /// Use batch statistics and training-only behaviour.
    public var isTraining: Bool
    /// Keep what ``Layer/backward(_:)`` needs; without it, calling backward is a programmer error.
    public var recordsForBackward: Bool
    /// In training, fold the batch statistics into BatchNorm running statistics.
    public var updatesRunningStatistics: Bool

    /// Creates a mode from its three switches.
    public init(isTraining: Bool, recordsForBackward: Bool, updatesRunningStatistics: Bool) {
        self.isTraining = isTraining
        self.recordsForBackward = recordsForBackward
        self.updatesRunningStatistics = updatesRunningStatistics && isTraining
    }

    /// Training: batch statistics, running statistics updated, activations recorded.
    public static let training = ForwardMode(isTraining: true, recordsForBackward: true, updatesRunningStatistics: true)
    /// Evaluation for inference: running statistics, nothing recorded.
    public static let evaluation = ForwardMode(isTraining: false, recordsForBackward: false, updatesRunningStatistics: false)
    /// Evaluation semantics with activations recorded, to take gradients of a frozen model.
    public static let evaluationWithGradients = ForwardMode(isTraining: false, recordsForBackward: true, updatesRunningStatistics: false)
}

/// A node of a model tree: it owns parameters and child modules under PyTorch-style names.
///
/// Traversal is explicit (no reflection): a module lists its own parameters and its children, and
/// the extension methods build dotted names such as `layer1.0.bn1.running_mean` from them.
public protocol Module: AnyObject {
    /// The parameters this module owns directly, with their local names (`weight`, `running_var`).
    var ownParameters: [(name: String, parameter: Parameter)] { get }
    /// The direct children with their local names (`bn1`, `0`, `downsample`).
    var children: [(name: String, module: any Module)] { get }
    /// A one-line description of this module's configuration, used by the model summary.
    var summaryDescription: String { get }

    /// The output shape for an input of `shape` (N×H×W×C for images). Defaults to `shape`.
    func outputShape(forInputShape shape: [Int]) -> [Int]
    /// Multiply-accumulate operations of one forward pass on an input of `shape`, split into binary
    /// (1-bit × 1-bit) and real-valued ones. Defaults to none.
    func multiplyAccumulates(forInputShape shape: [Int]) -> (binary: Int, real: Int)
    /// Appends this module's rows to a model summary and returns its output shape. Leaf layers keep
    /// the default (one row); containers override it to describe their children in data-flow order.
    func appendSummaryRows(inputShape: [Int], path: String, to summary: inout ModelSummary) -> [Int]
}

extension Module {
    /// No parameters by default.
    public var ownParameters: [(name: String, parameter: Parameter)] { [] }
    /// No children by default.
    public var children: [(name: String, module: any Module)] { [] }
    /// The type name by default.
    public var summaryDescription: String { String(describing: type(of: self)) }
    /// The input shape by default (element-wise layers).
    public func outputShape(forInputShape shape: [Int]) -> [Int] { shape }
    /// No multiply-accumulates by default.
    public func multiplyAccumulates(forInputShape shape: [Int]) -> (binary: Int, real: Int) { (0, 0) }
    /// One row with every parameter below this module.
    public func appendSummaryRows(inputShape: [Int], path: String, to summary: inout ModelSummary) -> [Int] {
        let output = outputShape(forInputShape: inputShape)
        summary.appendRow(path: path, module: self, inputShape: inputShape, outputShape: output)
        return output
    }

    /// Every parameter of this module and its descendants, depth-first, under dotted names.
    public func namedParameters(prefix: String = "") -> [(name: String, parameter: Parameter)] {
        var result: [(name: String, parameter: Parameter)] = []
        collectParameters(prefix: prefix, into: &result)
        return result
    }

    private func collectParameters(prefix: String, into result: inout [(name: String, parameter: Parameter)]) {
        for (name, parameter) in ownParameters { result.append((prefix + name, parameter)) }
        for (name, child) in children { child.collectParameters(prefix: prefix + name + ".", into: &result) }
    }

    /// Every module below this one (itself first), depth-first, with dotted paths (`""` for itself).
    public func namedModules(prefix: String = "") -> [(path: String, module: any Module)] {
        var result: [(path: String, module: any Module)] = [(prefix, self)]
        for (name, child) in children {
            let path = prefix.isEmpty ? name : prefix + "." + name
            result.append(contentsOf: child.namedModules(prefix: path))
        }
        return result
    }

    /// The trainable parameters (latent-binary and real), in traversal order.
    public var trainableParameters: [Parameter] {
        namedParameters().map(\.parameter).filter(\.isTrainable)
    }

    /// Resets the accumulated gradient of every parameter to zero.
    public func zeroGradients() {
        for (_, p) in namedParameters() where p.isTrainable { p.gradient.zero() }
    }
}

/// A differentiable function with parameters: a forward pass and an explicit backward pass.
///
/// `backward` must follow a `forward` with ``ForwardMode/recordsForBackward``; it receives the
/// gradient of the loss with respect to the output, **adds** the gradients of the parameters into
/// ``Parameter/gradient`` and returns the gradient with respect to the input.
///
/// `backward` consumes the recording: it releases the activations the forward pass kept, so their
/// memory falls as the backward pass proceeds and none is held between training steps (PyTorch's
/// `retain_graph=False`). Back-propagating again takes another recording forward pass.
public protocol Layer<Input, Output>: Module {
    /// The input type, usually ``Tensor``.
    associatedtype Input
    /// The output type, usually ``Tensor``.
    associatedtype Output

    /// Computes the output; in a recording mode, keeps what backward needs.
    func forward(_ input: Input, mode: ForwardMode) -> Output
    /// Propagates `outputGradient` back: accumulates parameter gradients, returns the input gradient.
    func backward(_ outputGradient: Output) -> Input
}

/// A layer from tensors to tensors, the kind that composes with ``Sequential`` and ``Residual``.
public typealias TensorLayer = Layer<Tensor, Tensor>

extension Layer {
    /// Evaluation-mode forward pass (no recording): `layer(x)`.
    public func callAsFunction(_ input: Input) -> Output { forward(input, mode: .evaluation) }
}
