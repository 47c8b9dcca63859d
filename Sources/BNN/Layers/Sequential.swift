/// Builds the layer list of a ``Sequential`` from a block of layer expressions, with `if` and `for`.
@resultBuilder
public enum SequentialBuilder {
    /// One layer.
    public static func buildExpression(_ layer: any TensorLayer) -> [any TensorLayer] { [layer] }
    /// Several layers, e.g. from a helper function.
    public static func buildExpression(_ layers: [any TensorLayer]) -> [any TensorLayer] { layers }
    /// Concatenates the statements of a block.
    public static func buildBlock(_ parts: [any TensorLayer]...) -> [any TensorLayer] { parts.flatMap { $0 } }
    /// An `if` without `else`.
    public static func buildOptional(_ part: [any TensorLayer]?) -> [any TensorLayer] { part ?? [] }
    /// The first branch of an `if`/`else`.
    public static func buildEither(first part: [any TensorLayer]) -> [any TensorLayer] { part }
    /// The second branch of an `if`/`else`.
    public static func buildEither(second part: [any TensorLayer]) -> [any TensorLayer] { part }
    /// A `for` loop.
    public static func buildArray(_ parts: [[any TensorLayer]]) -> [any TensorLayer] { parts.flatMap { $0 } }
}

/// Layers applied one after the other; the output of each is the input of the next.
///
/// Children are named `0`, `1`, … as in PyTorch's `nn.Sequential`, or explicitly with
/// ``init(named:)`` (e.g. `binary_conv`, `bn1`) so checkpoints match a reference's `state_dict`.
/// A layer named `""` is inlined: its parameters and children appear under this sequence's own
/// names, for references whose modules keep flat names across several computational steps (a
/// ReActNet block's `move11`, `binary_3x3`, … `move23`).
///
/// ```swift
/// let block = Sequential {
///     Conv2D(inputChannels: 3, outputChannels: 16, kernelSize: 3, padding: 1)
///     BatchNorm2D(channels: 16)
///     HardTanh()
/// }
/// ```
public final class Sequential: TensorLayer, BackwardProgressReporting {
    /// The layers with their names, in application order.
    public let layers: [(name: String, layer: any TensorLayer)]

    /// Creates a sequence of layers named by their position.
    public init(@SequentialBuilder _ build: () -> [any TensorLayer]) {
        layers = build().enumerated().map { (String($0.offset), $0.element) }
    }

    /// Creates a sequence of layers named by their position.
    public init(_ layers: [any TensorLayer]) {
        self.layers = layers.enumerated().map { (String($0.offset), $0.element) }
    }

    /// Creates a sequence of explicitly named layers.
    public init(named layers: [(String, any TensorLayer)]) {
        self.layers = layers.map { (name: $0.0, layer: $0.1) }
    }

    /// The parameters of inlined (`""`-named) layers.
    public var ownParameters: [(name: String, parameter: Parameter)] { InlineNaming.parameters(of: layers) }

    /// The layers under their names, inlined layers replaced by their children.
    public var children: [(name: String, module: any Module)] { InlineNaming.children(of: layers) }

    /// Applies every layer in order.
    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        var x = input
        for (_, layer) in layers { x = layer.forward(x, mode: mode) }
        return x
    }

    /// Called after each layer's backward pass with that layer (see ``BackwardProgressReporting``).
    public var childBackwardDidFinish: ((any Module) -> Void)?

    /// Propagates the gradient through the layers in reverse order.
    public func backward(_ outputGradient: Tensor) -> Tensor {
        var g = outputGradient
        for (_, layer) in layers.reversed() {
            g = layer.backward(g)
            childBackwardDidFinish?(layer)
        }
        return g
    }
}
