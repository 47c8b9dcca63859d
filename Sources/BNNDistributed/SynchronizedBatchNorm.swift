import BNN

/// Synchronised BatchNorm: every ``BNN/BatchNorm2D`` of a model computes its training statistics over
/// the global batch of all ranks, as the reference does when it trains on several devices.
///
/// Each BatchNorm layer then all-reduces `2·C + 1` doubles in its forward pass and `2·C` in its
/// backward pass (see ``BNN/BatchNorm2D/statisticsReducer``): small messages whose latency, not
/// bandwidth, is the cost (2 × 36 layers per step for Bi-Real Net 34).
public enum SynchronizedBatchNorm {
    /// Installs the reduction over `communicator` in every ``BNN/BatchNorm2D`` below `model` and returns
    /// how many layers were changed. Every rank must do the same.
    @discardableResult
    public static func install(in model: any Module, communicator: any Communicator) -> Int {
        var installed = 0
        forEachBatchNorm(in: model) { layer in
            layer.statisticsReducer = { [communicator] sums in communicator.allReduceSum(&sums) }
            installed += 1
        }
        return installed
    }

    /// Returns every ``BNN/BatchNorm2D`` below `model` to statistics of the local batch.
    public static func remove(from model: any Module) {
        forEachBatchNorm(in: model) { $0.statisticsReducer = nil }
    }

    private static func forEachBatchNorm(in module: any Module, _ body: (BatchNorm2D) -> Void) {
        if let layer = module as? BatchNorm2D { body(layer) }
        for child in module.children { forEachBatchNorm(in: child.module, body) }
    }
}
