import BNN
import BNNData

/// The batches of one loader epoch as a `Sequence` of ``LabeledBatch`` for the ``Trainer``; a loading
/// error (strict mode, unreadable data) ends the sequence and is kept in ``error`` for the caller to throw.
final class LoaderBatches: Sequence, IteratorProtocol {
    private let stream: BatchStream
    /// The error that ended the epoch early, if any.
    private(set) var error: Error?

    /// The batches of `epoch` from `firstBatch` on (the earlier ones are never decoded).
    init(_ loader: DataLoader, epoch: Int, startingAt firstBatch: Int = 0) {
        stream = loader.epoch(epoch, startingAt: firstBatch)
    }

    /// The index of the first batch this sequence yields.
    var firstBatch: Int { stream.firstBatch }

    func next() -> LabeledBatch? {
        guard error == nil else { return nil }
        do {
            guard let batch = try stream.next() else { return nil }
            return LabeledBatch(images: batch.images, labels: batch.labels, softTargets: batch.softTargets)
        } catch {
            self.error = error
            return nil
        }
    }

    /// Throws the error that ended the epoch, if any.
    func rethrow() throws {
        if let error { throw error }
    }
}
