import BNN
import BNNData

/// The batches of one loader epoch as a `Sequence` of ``LabeledBatch`` for the ``Trainer``; a loading
/// error (strict mode, unreadable data) ends the sequence and is kept in ``error`` for the caller to throw.
final class LoaderBatches: Sequence, IteratorProtocol {
    private let stream: BatchStream
    /// The error that ended the epoch early, if any.
    private(set) var error: Error?

    init(_ loader: DataLoader, epoch: Int) {
        stream = loader.epoch(epoch)
    }

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
