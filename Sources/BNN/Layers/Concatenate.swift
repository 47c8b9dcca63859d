/// Runs several branches on the same input and joins their outputs along the channels (last axis),
/// as `torch.cat([b(x) for b in branches], dim=1)` on N×C×H×W data.
///
/// ReActNet-A's reduction blocks concatenate two 1×1 binary branches to double the width. The
/// backward pass splits the output gradient by channels, sends each part through its branch and sums
/// the branches' input gradients. Branches are named `0`, `1`, … or explicitly; a branch named `""`
/// is inlined as in ``Sequential``.
public final class Concatenate: TensorLayer {
    /// The branches with their names, in output-channel order.
    public let branches: [(name: String, layer: any TensorLayer)]
    private var recordedWidths: [Int]?

    /// Creates the layer from branches named by their position.
    public init(_ branches: [any TensorLayer]) {
        precondition(!branches.isEmpty, "Concatenate: at least one branch")
        self.branches = branches.enumerated().map { (String($0.offset), $0.element) }
    }

    /// Creates the layer from explicitly named branches.
    public init(named branches: [(String, any TensorLayer)]) {
        precondition(!branches.isEmpty, "Concatenate: at least one branch")
        self.branches = branches.map { (name: $0.0, layer: $0.1) }
    }

    /// The parameters of inlined (`""`-named) branches.
    public var ownParameters: [(name: String, parameter: Parameter)] { InlineNaming.parameters(of: branches) }

    /// The branches under their names, inlined branches replaced by their children.
    public var children: [(name: String, module: any Module)] { InlineNaming.children(of: branches) }

    /// E.g. `Concatenate(2 branches)`.
    public var summaryDescription: String { "Concatenate(\(branches.count) branches)" }

    /// The branches' outputs joined along the last axis.
    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        let outputs = branches.map { $0.layer.forward(input, mode: mode) }
        recordedWidths = mode.recordsForBackward ? outputs.map(\.channelCount) : nil
        return Tensor(concatenatingChannels: outputs)
    }

    /// The sum of the branches' input gradients for their slices of `outputGradient`.
    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard let widths = recordedWidths else { preconditionFailure("Concatenate.backward without a recording forward pass") }
        var offset = 0
        var inputGradient: Tensor?
        for (branch, width) in zip(branches, widths) {
            let part = branch.layer.backward(outputGradient.channelSlice(offset..<offset + width))
            offset += width
            if inputGradient == nil { inputGradient = part } else { inputGradient! += part }
        }
        return inputGradient!
    }

    /// The branches' common shape with the channels summed.
    public func outputShape(forInputShape shape: [Int]) -> [Int] {
        let shapes = branches.map { $0.layer.outputShape(forInputShape: shape) }
        return Array(shapes[0].dropLast()) + [shapes.map { $0.last ?? 0 }.reduce(0, +)]
    }

    /// Rows for every branch (the join itself has no parameters and no multiply-accumulates).
    public func appendSummaryRows(inputShape: [Int], path: String, to summary: inout ModelSummary) -> [Int] {
        for (name, layer) in branches {
            _ = layer.appendSummaryRows(inputShape: inputShape, path: ModelSummary.join(path, name), to: &summary)
        }
        return outputShape(forInputShape: inputShape)
    }
}
