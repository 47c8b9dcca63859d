/// Stochastic depth on a residual branch (timm's `drop_path`): in training, each sample's branch output
/// is kept with probability `1 − rate` and then divided by `1 − rate`, or zeroed; in evaluation it is
/// the identity.
///
/// Masks come from a generator seeded at creation (from the current ``Initializer`` scope), one draw
/// per sample per training forward pass, or from ``fixedMasks`` (tests, parity with another framework).
/// ``generator`` is public so that training checkpoints can save and restore its position: a resumed
/// run then draws the same masks as an uninterrupted one.
public final class DropPath {
    /// The chance of dropping a sample's branch, in `0 ..< 1`.
    public let rate: Double
    /// When set, the keep (1) / drop (0) mask of every sample for the following training passes; its
    /// count must equal the batch size.
    public var fixedMasks: [Float]?
    /// The mask generator; its state advances by one draw per sample per training pass.
    public var generator: SeededGenerator
    /// The per-sample factors of the last training pass (mask / keep probability), for backward.
    private var lastScales: [Float]?

    /// Creates the drop path with a generator seeded from the current initialisation scope.
    ///
    /// - Precondition: `0 <= rate < 1`.
    public init(rate: Double) {
        precondition(rate >= 0 && rate < 1, "DropPath: rate must be in 0..<1, got \(rate)")
        self.rate = rate
        generator = SeededGenerator(seed: Initializer.withGenerator { $0.next() })
    }

    /// Scales the N×… branch output `branch` in place (training only) and remembers the factors.
    public func forward(_ branch: inout Tensor, mode: ForwardMode) {
        guard mode.isTraining, rate > 0 || fixedMasks != nil else {
            lastScales = nil
            return
        }
        let n = branch.shape[0], keep = Float(1 - rate)
        let masks = fixedMasks ?? (0..<n).map { _ in Double(generator.next() >> 11) * 0x1p-53 < 1 - rate ? 1 : 0 }
        precondition(masks.count == n, "DropPath: \(masks.count) fixed masks for a batch of \(n)")
        let scales = masks.map { $0 / keep }
        Self.scale(&branch, by: scales)
        lastScales = mode.recordsForBackward ? scales : nil
    }

    /// The branch's output gradient scaled by the factors of the last training pass.
    public func backward(_ gradient: Tensor) -> Tensor {
        guard let lastScales else { return gradient }
        var result = gradient
        Self.scale(&result, by: lastScales)
        return result
    }

    private static func scale(_ tensor: inout Tensor, by factors: [Float]) {
        let size = tensor.count / max(tensor.shape[0], 1)
        tensor.withUnsafeMutableBufferPointer { x in
            for (i, factor) in factors.enumerated() where factor != 1 {
                let p = x.baseAddress! + i * size
                for e in 0..<size { p[e] *= factor }
            }
        }
    }
}

extension DropPath {
    /// The residual blocks of `layer` in data-flow order, found through ``LayerPipeline``s,
    /// `Residual` bodies, shortcuts and posts and `Concatenate` branches — also those whose names are
    /// inlined into their parent's (ReActNet-A's), which `namedModules()` does not list.
    public static func residuals(in layer: any TensorLayer) -> [Residual] {
        switch layer {
        case let residual as Residual:
            return [residual] + residuals(in: residual.body) + (residual.shortcut.map(residuals(in:)) ?? [])
                + (residual.post.map(residuals(in:)) ?? [])
        case let pipeline as any LayerPipeline:
            return pipeline.pipelineLayers.flatMap { residuals(in: $0.layer) }
        case let concatenation as Concatenate:
            return concatenation.branches.flatMap { residuals(in: $0.layer) }
        default:
            return []
        }
    }

    /// Gives the residual blocks of a network stochastic depth linear in depth, as timm does: block
    /// `i` of `n` drops its branch at `maximumRate · i / (n − 1)` (the first block never). Call it
    /// inside the model's `Initializer.withSeed` scope, after the weights, so that the masks are
    /// seeded and the weights do not depend on the rate.
    ///
    /// - Precondition: `maximumRate` is in 0..<1 (programmer error; the trainer checks the flag).
    public static func assign(maximumRate: Double, to residuals: [Residual]) {
        precondition(maximumRate >= 0 && maximumRate < 1, "DropPath.assign: rate must be in 0..<1, got \(maximumRate)")
        for (index, residual) in residuals.enumerated() {
            let rate = maximumRate * Double(index) / Double(max(residuals.count - 1, 1))
            residual.dropPath = rate > 0 ? DropPath(rate: rate) : nil
        }
    }
}
