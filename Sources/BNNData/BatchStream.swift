import Foundation

/// The batches of one epoch, built in the background by the loader's threads and handed out in order.
///
/// Call ``next()`` until it returns `nil`. Dropping the stream early stops the threads after the
/// batches they are building.
public final class BatchStream: @unchecked Sendable {
    /// The epoch being loaded.
    public let epoch: Int
    /// The number of batches of the whole epoch (the stream yields those from ``firstBatch`` on).
    public let count: Int
    /// The index of the first batch the stream yields: the batches before it are never built.
    public let firstBatch: Int
    private let production: Production

    init(loader: DataLoader, epoch: Int, firstBatch: Int) {
        self.epoch = epoch
        self.count = loader.batchesPerEpoch
        self.firstBatch = firstBatch
        let order = loader.shardOrder(epoch: epoch)
        production = Production(count: count, first: firstBatch, limit: loader.configuration.prefetchBatches)
        let production = self.production
        for _ in 0..<loader.configuration.threadCount {
            let thread = Thread {
                while let index = production.claim() {
                    let result = Result { try loader.makeBatch(index: index, epoch: epoch, order: order) }
                    production.deliver(index, result)
                }
            }
            thread.name = "BNNData loader"
            thread.start()
        }
    }

    deinit { production.cancel() }

    /// The next batch in order, waiting for it if needed; `nil` after the last.
    ///
    /// - Throws: the ``BNNDataError`` that stopped the batch (strict mode, unreadable data, too many bad
    ///   files); the stream then ends.
    public func next() throws -> Batch? {
        while let result = production.take() {
            switch result {
            case .success(let batch):
                if batch.labels.isEmpty { continue }   // every image of it was bad and left out
                return batch
            case .failure(let error):
                production.cancel()
                throw error
            }
        }
        return nil
    }

    /// Shared state of the workers and the consumer, guarded by one condition.
    final class Production: @unchecked Sendable {
        private let condition = NSCondition()
        private let count: Int
        private let limit: Int
        private var nextClaim = 0
        private var nextTake = 0
        private var ready = [Int: Result<Batch, Error>]()
        private var cancelled = false

        init(count: Int, first: Int, limit: Int) {
            self.count = count
            self.limit = limit
            nextClaim = first
            nextTake = first
        }

        /// The next batch index to build, waiting while `limit` batches are pending; `nil` when done.
        func claim() -> Int? {
            condition.lock()
            defer { condition.unlock() }
            while !cancelled && nextClaim < count && nextClaim >= nextTake + limit { condition.wait() }
            guard !cancelled && nextClaim < count else { return nil }
            nextClaim += 1
            return nextClaim - 1
        }

        func deliver(_ index: Int, _ result: Result<Batch, Error>) {
            condition.lock()
            if !cancelled { ready[index] = result }
            condition.broadcast()
            condition.unlock()
        }

        func take() -> Result<Batch, Error>? {
            condition.lock()
            defer { condition.unlock() }
            while true {
                if cancelled || nextTake >= count { return nil }
                if let result = ready.removeValue(forKey: nextTake) {
                    nextTake += 1
                    condition.broadcast()
                    return result
                }
                condition.wait()
            }
        }

        func cancel() {
            condition.lock()
            cancelled = true
            ready.removeAll()
            condition.broadcast()
            condition.unlock()
        }
    }
}
