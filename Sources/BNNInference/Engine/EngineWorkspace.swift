import BNN

/// The buffers of an ``InferenceEngine`` program for one batch size, allocated on the first run of
/// that size and reused: one float buffer per storage slot, one zero-bordered packed buffer per
/// packed value (its border is never written), the padded-input scratch of the float convolutions.
final class EngineWorkspace {
    let batch: Int
    private let slots: [AlignedBuffer<Float>]
    private let packed: [AlignedBuffer<UInt64>]
    private let padded: AlignedBuffer<Float>?
    /// The pointers handed to the operations.
    let frame: EngineFrame

    init(program: EngineProgram, batch: Int) {
        self.batch = batch
        slots = program.slotSizes.map { AlignedBuffer(count: batch * $0) }
        packed = program.packedValues.map { AlignedBuffer(count: batch * $0.wordsPerImage) }
        let scratch = program.operations.map { $0.paddedScratch(batch: batch) }.max() ?? 0
        padded = scratch > 0 ? AlignedBuffer(count: scratch) : nil
        frame = EngineFrame(batch: batch, values: program.slotOfValue.map { [slots] in slots[$0].base },
                            packed: packed.map(\.base), padded: padded?.base)
    }
}
