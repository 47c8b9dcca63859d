import BNN
import Foundation

/// Loads batches from an ``ImageSource`` with a pool of decoding threads.
///
/// - Order: epoch `e` visits a permutation drawn from (seed, e) (or source order without shuffling),
///   split across ranks like PyTorch's `DistributedSampler`: rank `r` takes positions `r, r + world, …`.
///   Every rank has the same number of batches.
/// - Determinism: sample `i` of epoch `e` is augmented with a generator derived from (seed, e, i), and a
///   batch's mixup from (seed, e, rank, batch index), so the batches are identical for any thread count.
/// - Memory: at most ``DataLoaderConfiguration/prefetchBatches`` batches are built or waiting at once.
/// - Bad files: a sample whose file cannot be read or decoded is replaced by the next sample of the shard
///   order (wrapping), so batches keep their size and every label belongs to its image. Each bad file is
///   reported once on standard error and counted per epoch (``skippedFileCount(epoch:)``). In strict
///   mode the first bad file ends the epoch with ``BNNDataError/badFile(path:reason:)``. With
///   ``DataLoaderConfiguration/dropsBadFiles`` a bad sample is left out of its batch instead (evaluation).
///
/// ```swift
/// let loader = try DataLoader(source: folder, transform: TrainingTransform(),
///                             configuration: DataLoaderConfiguration(batchSize: 128, seed: 7))
/// try loader.forEachBatch(epoch: 3) { batch in train(batch.images, batch.labels) }
/// ```
public final class DataLoader: @unchecked Sendable {
    /// Where the samples come from.
    public let source: any ImageSource
    /// The per-image transform.
    public let transform: any ImageTransform
    /// The settings.
    public let configuration: DataLoaderConfiguration
    let badFiles = BadFileLog()

    /// Creates a loader.
    ///
    /// - Throws: ``BNNDataError/invalidConfiguration(_:)`` when the batch size, rank, world size, thread
    ///   or prefetch counts are out of range, mixup's classes differ from the source's, or the shard holds
    ///   no full batch with `dropLast`.
    public init(source: any ImageSource, transform: any ImageTransform, configuration: DataLoaderConfiguration) throws {
        let c = configuration
        guard c.batchSize >= 1, c.worldSize >= 1, (0..<c.worldSize).contains(c.rank), c.threadCount >= 1,
              c.prefetchBatches >= c.threadCount, c.maximumConsecutiveBadFiles >= 1 else {
            throw BNNDataError.invalidConfiguration(
                "batch \(c.batchSize), rank \(c.rank) of \(c.worldSize), threads \(c.threadCount), prefetch "
                + "\(c.prefetchBatches) (need batch ≥ 1, 0 ≤ rank < world, threads ≥ 1, prefetch ≥ threads)")
        }
        if let mixup = c.mixup, mixup.classCount != source.classCount {
            throw BNNDataError.invalidConfiguration("mixup has \(mixup.classCount) classes, the source \(source.classCount)")
        }
        guard source.count > 0 else { throw BNNDataError.invalidConfiguration("the source has no samples") }
        self.source = source
        self.transform = transform
        self.configuration = c
        guard batchesPerEpoch > 0 else {
            throw BNNDataError.invalidConfiguration(
                "\(source.count) samples over \(c.worldSize) ranks fill no batch of \(c.batchSize) with drop_last")
        }
    }

    /// The number of samples this rank visits per epoch (before batching).
    public var shardSize: Int {
        let n = source.count, world = configuration.worldSize
        return configuration.dropLast ? n / world : (n + world - 1) / world
    }

    /// The number of batches per epoch, equal on every rank.
    public var batchesPerEpoch: Int {
        let b = configuration.batchSize
        return configuration.dropLast ? shardSize / b : (shardSize + b - 1) / b
    }

    /// The source indices this rank visits in `epoch`, in order (``shardSize`` of them).
    public func shardOrder(epoch: Int) -> [Int] {
        let n = source.count, world = configuration.worldSize
        var order = Array(0..<n)
        if configuration.shuffle {
            var generator = SeededGenerator.derived(seed: configuration.seed, UInt64(epoch), 0x5348_5546_464C_45)
            for i in stride(from: n - 1, to: 0, by: -1) { order.swapAt(i, generator.nextIndex(below: i + 1)) }
        }
        let total = shardSize * world
        if total > n {
            for i in 0..<(total - n) { order.append(order[i % n]) }
        } else {
            order.removeLast(n - total)
        }
        return Array(stride(from: configuration.rank, to: total, by: world).map { order[$0] })
    }

    /// The number of distinct bad samples skipped so far in `epoch`.
    public func skippedFileCount(epoch: Int) -> Int { badFiles.count(epoch: epoch) }

    /// Starts loading `epoch` in the background and returns the stream of its batches.
    ///
    /// - Parameters:
    ///   - epoch: the epoch; its order and augmentations are drawn from (seed, epoch, sample).
    ///   - firstBatch: the first batch to build (0 by default). A run resumed in the middle of an
    ///     epoch starts at the batch it stopped at: the batches before it are never decoded, and the
    ///     ones after are exactly those of an uninterrupted epoch. Clamped to 0…``batchesPerEpoch``.
    public func epoch(_ epoch: Int, startingAt firstBatch: Int = 0) -> BatchStream {
        BatchStream(loader: self, epoch: epoch, firstBatch: min(max(0, firstBatch), batchesPerEpoch))
    }

    /// Calls `body` with every batch of `epoch` in order.
    ///
    /// - Throws: the loader's errors (``BNNDataError``) and whatever `body` throws; loading stops at once.
    public func forEachBatch(epoch: Int, _ body: (Batch) throws -> Void) throws {
        let stream = self.epoch(epoch)
        while let batch = try stream.next() { try body(batch) }
    }

    /// Builds batch `index` of `epoch` from `order` (the shard order); runs on a worker thread.
    func makeBatch(index: Int, epoch: Int, order: [Int]) throws -> Batch {
        let c = configuration
        let start = index * c.batchSize
        let count = min(c.batchSize, order.count - start)
        let processor = SampleProcessor(transform: transform)
        let sampleSize = processor.sampleFloatCount
        var labels = [Int](), indices = [Int]()
        labels.reserveCapacity(count)
        indices.reserveCapacity(count)
        // Every sample's floats are written by a successful load, so the storage starts uninitialised.
        let scalars = try [Float](unsafeUninitializedCapacity: count * sampleSize) { buffer, initialized in
            for position in start..<(start + count) {
                let slot = indices.count
                let output = UnsafeMutableBufferPointer(rebasing: buffer[(slot * sampleSize)..<((slot + 1) * sampleSize)])
                guard let used = try loadSample(position: position, epoch: epoch, order: order, processor: processor,
                                                into: output) else { continue }
                indices.append(used)
                labels.append(source.label(at: used))
            }
            initialized = indices.count * sampleSize
        }
        var images = Tensor(shape: [indices.count, transform.outputHeight, transform.outputWidth, 3], scalars: scalars)
        var softTargets: Tensor?
        if let mixup = c.mixup, !labels.isEmpty {
            var generator = SeededGenerator.derived(seed: c.seed, UInt64(epoch),
                                                    UInt64(c.rank) << 32 | UInt64(index), 0x4D49_5855_50)
            softTargets = mixup.apply(to: &images, labels: labels, generator: &generator).targets
        }
        return Batch(images: images, labels: labels, softTargets: softTargets, sampleIndices: indices, index: index)
    }

    /// Loads the sample at shard `position`, or the next good one; returns the source index used, or
    /// `nil` when the sample is bad and ``DataLoaderConfiguration/dropsBadFiles`` leaves it out.
    private func loadSample(position: Int, epoch: Int, order: [Int], processor: SampleProcessor,
                            into output: UnsafeMutableBufferPointer<Float>) throws -> Int? {
        var lastPath = ""
        for attempt in 0..<min(configuration.maximumConsecutiveBadFiles, order.count) {
            let index = order[(position + attempt) % order.count]
            var generator = SeededGenerator.derived(seed: configuration.seed, UInt64(epoch), UInt64(index))
            do {
                try processor.process(try source.payload(at: index), name: source.name(at: index),
                                      generator: &generator, into: output)
                return index
            } catch let error as BNNDataError {
                if configuration.strict { throw error }
                lastPath = source.name(at: index)
                badFiles.record(index: index, path: lastPath, reason: Self.reason(error), epoch: epoch)
                if configuration.dropsBadFiles { return nil }
            }
        }
        throw BNNDataError.tooManyBadFiles(limit: min(configuration.maximumConsecutiveBadFiles, order.count),
                                           lastPath: lastPath)
    }

    private static func reason(_ error: BNNDataError) -> String {
        switch error {
        case .badFile(_, let reason), .unreadableFile(_, let reason): return reason
        default: return error.description
        }
    }
}
