/// A real-valued shortcut block: `post(body(x) + shortcut(x))`, with optional stochastic depth on the
/// body (``dropPath``).
///
/// The shortcut is the identity when `nil` (then `body` must keep the shape). This is the Bi-Real
/// block: the real activations skip each binary convolution, so information survives binarisation.
///
/// Naming: the body's parameters and children appear directly under the block's name (so a body
/// `Sequential(named: [("binary_conv", …), ("bn1", …)])` gives `layer1.0.binary_conv.weight`), the
/// shortcut under `shortcutName` (default `downsample`, as in ResNet/Bi-Real checkpoints), and the
/// post-activation under `postName` (default `post`) when it has parameters. An empty `postName`
/// inlines the post-activation's names like the body's (ReActNet's `move1`, `prelu`, `move2`).
public final class Residual: TensorLayer {
    /// The main path.
    public let body: any TensorLayer
    /// The shortcut path; `nil` for the identity.
    public let shortcut: (any TensorLayer)?
    /// Applied to the sum; `nil` for none.
    public let post: (any TensorLayer)?
    /// The checkpoint name of the shortcut.
    public let shortcutName: String
    /// The checkpoint name of the post-activation; `""` inlines its names.
    public let postName: String
    /// Stochastic depth on the body in training, or `nil`.
    public var dropPath: DropPath?

    /// Creates a residual block.
    public init(body: any TensorLayer, shortcut: (any TensorLayer)? = nil, post: (any TensorLayer)? = nil,
                shortcutName: String = "downsample", postName: String = "post") {
        self.body = body
        self.shortcut = shortcut
        self.post = post
        self.shortcutName = shortcutName
        self.postName = postName
    }

    /// The parts under their checkpoint names (the body inlined).
    private var namedParts: [(name: String, layer: any TensorLayer)] {
        var result: [(name: String, layer: any TensorLayer)] = [("", body)]
        if let shortcut { result.append((shortcutName, shortcut)) }
        if let post { result.append((postName, post)) }
        return result
    }

    /// The body's own parameters (and an inlined post-activation's), lifted to this block.
    public var ownParameters: [(name: String, parameter: Parameter)] { InlineNaming.parameters(of: namedParts) }

    /// The body's children, then the shortcut and the post-activation.
    public var children: [(name: String, module: any Module)] { InlineNaming.children(of: namedParts) }

    /// `post(body(x) + shortcut(x))`; a clamping post-activation (``HardTanh``, ``ReLU``) adds and
    /// clamps in one pass.
    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        var sum = body.forward(input, mode: mode)
        dropPath?.forward(&sum, mode: mode)
        let other = shortcut?.forward(input, mode: mode) ?? input
        if let fused = post as? any SumActivation {
            fused.forward(adding: other, to: &sum, mode: mode)
            return sum
        }
        sum += other
        return post?.forward(sum, mode: mode) ?? sum
    }

    /// Sends the gradient of the sum through both paths and adds their input gradients.
    public func backward(_ outputGradient: Tensor) -> Tensor {
        let sumGradient = post?.backward(outputGradient) ?? outputGradient
        var inputGradient = body.backward(dropPath?.backward(sumGradient) ?? sumGradient)
        inputGradient += shortcut?.backward(sumGradient) ?? sumGradient
        return inputGradient
    }

    /// The body's output shape.
    public func outputShape(forInputShape shape: [Int]) -> [Int] { body.outputShape(forInputShape: shape) }

    /// Rows for the body, the shortcut and the post-activation.
    public func appendSummaryRows(inputShape: [Int], path: String, to summary: inout ModelSummary) -> [Int] {
        let output = body.appendSummaryRows(inputShape: inputShape, path: path, to: &summary)
        if let shortcut {
            _ = shortcut.appendSummaryRows(inputShape: inputShape, path: ModelSummary.join(path, shortcutName), to: &summary)
        }
        if let post { _ = post.appendSummaryRows(inputShape: output, path: ModelSummary.join(path, postName), to: &summary) }
        return output
    }
}
