import BNN

/// The buffers of one ``InferenceEngine`` run for a given batch size, allocated once and reused.
///
/// Packed activation buffers (one per binary convolution input) keep a zero border of the
/// convolution's padding that no step ever writes.
final class EngineWorkspace {
    let batch: Int
    /// Raw stem convolution output of one image, H1×W1×C0 (the stem runs image by image).
    let stemOutput: AlignedBuffer<Float>
    /// The zero-padded stem input when the stem convolution reads one, else nil.
    let stemPadded: AlignedBuffer<Float>?
    /// Two float activation buffers used in turn (block input / output).
    let activations: [AlignedBuffer<Float>]
    /// The average-pooled shortcut input.
    let pooled: AlignedBuffer<Float>
    /// The shortcut result added in a binary convolution's epilogue.
    let residual: AlignedBuffer<Float>
    /// The packed input of every binary convolution, with its margin.
    let packed: [AlignedBuffer<UInt64>]
    /// Globally pooled features, N×F.
    let features: AlignedBuffer<Float>

    init(plan: EnginePlan, batch: Int) {
        self.batch = batch
        stemOutput = AlignedBuffer(count: plan.stemOutputCount)
        stemPadded = plan.stemPaddedCount.map { AlignedBuffer(count: $0) }
        activations = [AlignedBuffer(count: batch * plan.maximumActivationCount),
                       AlignedBuffer(count: batch * plan.maximumActivationCount)]
        pooled = AlignedBuffer(count: batch * plan.maximumPooledCount)
        residual = AlignedBuffer(count: batch * plan.maximumActivationCount)
        packed = plan.blocks.map { AlignedBuffer(count: batch * $0.packedInputWordsPerImage) }
        features = AlignedBuffer(count: batch * plan.featureCount)
    }
}
