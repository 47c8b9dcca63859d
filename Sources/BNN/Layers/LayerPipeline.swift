/// A layer whose forward pass is a chain of named sub-layers applied in order, such as ``Sequential``
/// or a model class that keeps its layers in stored properties (Bi-Real Net's `conv1`, `bn1`, …).
///
/// Tools that walk a model's data flow rather than its parameters, the exporter of `BNNInference`
/// among them, read ``pipelineLayers``; a model that conforms needs no export rule of its own.
public protocol LayerPipeline: TensorLayer {
    /// The layers in data-flow order with their names (the child names of the checkpoint where a
    /// layer has parameters, e.g. `conv1`, `layer2`, `fc`).
    var pipelineLayers: [(name: String, layer: any TensorLayer)] { get }
}

extension LayerPipeline {
    /// The shape after every layer, in data-flow order.
    public func outputShape(forInputShape shape: [Int]) -> [Int] {
        pipelineLayers.reduce(shape) { $1.layer.outputShape(forInputShape: $0) }
    }

    /// The rows of every layer in data-flow order, under their names.
    public func appendSummaryRows(inputShape: [Int], path: String, to summary: inout ModelSummary) -> [Int] {
        pipelineLayers.reduce(inputShape) { shape, item in
            item.layer.appendSummaryRows(inputShape: shape, path: ModelSummary.join(path, item.name), to: &summary)
        }
    }
}

extension Sequential: LayerPipeline {
    /// The layers in application order: ``layers``.
    public var pipelineLayers: [(name: String, layer: any TensorLayer)] { layers }
}
