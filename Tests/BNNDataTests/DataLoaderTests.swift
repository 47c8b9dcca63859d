import BNN
import Foundation
import Testing
@testable import BNNData

@Suite("Data loader")
struct DataLoaderTests {
    private func collect(_ loader: DataLoader, epoch: Int) throws -> [Batch] {
        var batches = [Batch]()
        try loader.forEachBatch(epoch: epoch) { batches.append($0) }
        return batches
    }

    @Test func skipsBadFilesKeepingBatchesAndLabels() throws {
        let d = try TemporaryDataset.standard()
        let folder = try ImageFolder(root: d.root, split: "train")
        let loader = try DataLoader(source: folder, transform: TrainingTransform(imageSize: 24),
                                    configuration: DataLoaderConfiguration(batchSize: 4, seed: 1, threadCount: 2))
        #expect(loader.batchesPerEpoch == 3)
        let badIndices = Set(d.badFiles.map { folder.files.firstIndex(of: $0)! })
        for epoch in 0..<2 {
            let batches = try collect(loader, epoch: epoch)
            #expect(batches.count == 3)
            for batch in batches {
                #expect(batch.images.shape == [4, 24, 24, 3] && batch.labels.count == 4)
                #expect(batch.images.scalars.allSatisfy { $0.isFinite })
                for (index, label) in zip(batch.sampleIndices, batch.labels) {
                    #expect(!badIndices.contains(index) && folder.labels[index] == label)
                }
            }
            // A bad sample at a used position is replaced by the next good one of the shard order, which
            // may step over further bad samples beyond the used positions: count every one stepped on.
            let order = loader.shardOrder(epoch: epoch)
            var stepped = Set<Int>()
            for position in 0..<12 {
                var p = position
                while badIndices.contains(order[p % order.count]) { stepped.insert(order[p % order.count]); p += 1 }
            }
            #expect(loader.skippedFileCount(epoch: epoch) == stepped.count)
        }
    }

    @Test func evaluationLeavesBadFilesOutInsteadOfReplacingThem() throws {
        let d = try TemporaryDataset.standard()
        let folder = try ImageFolder(root: d.root, split: "train")
        let loader = try DataLoader(source: folder, transform: EvaluationTransform(imageSize: 16),
                                    configuration: DataLoaderConfiguration(batchSize: 4, shuffle: false, dropLast: false,
                                                                           dropsBadFiles: true))
        let batches = try collect(loader, epoch: 0)
        let indices = batches.flatMap(\.sampleIndices)
        let badIndices = Set(d.badFiles.map { folder.files.firstIndex(of: $0)! })
        #expect(!badIndices.isEmpty)
        // Every good image exactly once, no bad one, no image standing in for another.
        #expect(indices == (0..<folder.count).filter { !badIndices.contains($0) })
        #expect(batches.allSatisfy { $0.images.shape[0] == $0.labels.count && !$0.labels.isEmpty })
        #expect(loader.skippedFileCount(epoch: 0) == badIndices.count)
    }

    @Test func strictModeThrowsNamingTheFile() throws {
        let d = try TemporaryDataset.standard()
        let folder = try ImageFolder(root: d.root, split: "train")
        let loader = try DataLoader(source: folder, transform: TrainingTransform(imageSize: 16),
                                    configuration: DataLoaderConfiguration(batchSize: 14, shuffle: false, strict: true))
        do {
            _ = try collect(loader, epoch: 0)
            Issue.record("strict mode did not throw")
        } catch let error as BNNDataError {
            guard case .badFile(let path, _) = error else { Issue.record("\(error)"); return }
            #expect(d.badFiles.contains(path))
        }
    }

    @Test func sameBatchesForAnyThreadCount() throws {
        let d = try TemporaryDataset.standard()
        let folder = try ImageFolder(root: d.root, split: "train")
        let erasing = TrainingTransform(imageSize: 20, erasing: RandomErasing(probability: 0.5))
        func run(threads: Int, seed: UInt64, epoch: Int) throws -> [Batch] {
            let mixup = try Mixup(mixupAlpha: 0.8, cutmixAlpha: 1.0, classCount: 3)
            let config = DataLoaderConfiguration(batchSize: 2, seed: seed, threadCount: threads, mixup: mixup)
            return try collect(try DataLoader(source: folder, transform: erasing, configuration: config), epoch: epoch)
        }
        let one = try run(threads: 1, seed: 5, epoch: 2)
        let three = try run(threads: 3, seed: 5, epoch: 2)
        #expect(one.count == 7)
        #expect(one.map(\.images) == three.map(\.images))
        #expect(one.map(\.softTargets) == three.map(\.softTargets))
        #expect(one.map(\.sampleIndices) == three.map(\.sampleIndices))
        #expect(one[0].softTargets?.shape == [2, 3])
        #expect(try run(threads: 2, seed: 5, epoch: 3).map(\.sampleIndices) != one.map(\.sampleIndices))
    }

    /// An in-memory source that counts the samples read, to see which batches a stream builds.
    final class CountingSource: ImageSource, @unchecked Sendable {
        let base: InMemoryImageSource
        private let lock = NSLock()
        private var loads = 0
        init(_ base: InMemoryImageSource) { self.base = base }
        var count: Int { base.count }
        var classCount: Int { base.classCount }
        func label(at index: Int) -> Int { base.label(at: index) }
        func name(at index: Int) -> String { base.name(at: index) }
        func payload(at index: Int) throws -> ImagePayload {
            lock.lock()
            loads += 1
            lock.unlock()
            return try base.payload(at: index)
        }
        var loadCount: Int {
            lock.lock()
            defer { lock.unlock() }
            return loads
        }
    }

    @Test("a stream started mid-epoch yields exactly the remaining batches and never decodes the earlier ones")
    func startingMidEpoch() throws {
        var g = SeededGenerator(seed: 4)
        let images = (0..<30).map { _ in
            RGBImage(width: 10, height: 8, pixels: (0..<240).map { _ in UInt8(truncatingIfNeeded: g.next()) })
        }
        let source = CountingSource(try InMemoryImageSource(images: images, labels: (0..<30).map { $0 % 3 }, classCount: 3))
        let mixup = try Mixup(mixupAlpha: 0.8, cutmixAlpha: 1.0, classCount: 3)
        let config = DataLoaderConfiguration(batchSize: 4, seed: 11, threadCount: 2, prefetchBatches: 2, mixup: mixup)
        let loader = try DataLoader(source: source,
                                    transform: TrainingTransform(imageSize: 6, erasing: RandomErasing(probability: 0.5)),
                                    configuration: config)
        let whole = try collect(loader, epoch: 3)
        #expect(whole.count == 7)                          // 30 samples, batches of 4, the last partial one dropped
        let before = source.loadCount
        let stream = loader.epoch(3, startingAt: 5)
        #expect(stream.firstBatch == 5 && stream.count == 7)
        var rest = [Batch]()
        while let batch = try stream.next() { rest.append(batch) }
        #expect(rest.count == 2)
        #expect(rest.map(\.images) == whole[5...].map(\.images))
        #expect(rest.map(\.softTargets) == whole[5...].map(\.softTargets))
        #expect(rest.map(\.sampleIndices) == whole[5...].map(\.sampleIndices))
        #expect(source.loadCount - before == 8)           // batches 5 and 6 only
        #expect(try loader.epoch(3, startingAt: 7).next() == nil)
    }

    @Test func shardsAreDisjointWithEqualBatchCounts() throws {
        let images = (0..<23).map { RGBImage(width: 3, height: 2, pixels: [UInt8](repeating: UInt8($0), count: 18)) }
        let source = try InMemoryImageSource(images: images, labels: (0..<23).map { $0 % 5 }, classCount: 5)
        for dropLast in [true, false] {
            var seen = [Int]()
            var batchCounts = Set<Int>()
            for rank in 0..<3 {
                let config = DataLoaderConfiguration(batchSize: 3, dropLast: dropLast, seed: 8, rank: rank, worldSize: 3)
                let loader = try DataLoader(source: source, transform: EvaluationTransform(imageSize: 2, cropFraction: 1),
                                            configuration: config)
                let batches = try collect(loader, epoch: 4)
                batchCounts.insert(batches.count)
                seen += batches.flatMap(\.sampleIndices)
                for batch in batches {
                    for (i, index) in batch.sampleIndices.enumerated() {
                        #expect(batch.labels[i] == index % 5)
                        // Pixels of sample k are all k; the 2×2 crop of a 3×2 image keeps them.
                        let value = (Float(index) / 255 - 0.485) / 0.229
                        #expect(abs(batch.images.scalars[i * 12] - value) < 1e-5)
                    }
                }
            }
            #expect(batchCounts.count == 1)
            if dropLast {
                #expect(seen.count == 18 && Set(seen).count == 18)
            } else {
                #expect(seen.count == 24 && Set(seen) == Set(0..<23))
            }
        }
    }

    @Test func abandonedEpochStopsAndBadSettingsThrow() throws {
        let images = (0..<40).map { _ in RGBImage(width: 8, height: 8, pixels: [UInt8](repeating: 9, count: 192)) }
        let source = try InMemoryImageSource(images: images, labels: [Int](repeating: 0, count: 40), classCount: 1)
        let loader = try DataLoader(source: source, transform: TrainingTransform(imageSize: 8),
                                    configuration: DataLoaderConfiguration(batchSize: 2, threadCount: 2, prefetchBatches: 2))
        let stream = loader.epoch(0)
        #expect(try stream.next()?.images.shape == [2, 8, 8, 3])
        #expect(throws: BNNDataError.self) {
            _ = try DataLoader(source: source, transform: TrainingTransform(),
                               configuration: DataLoaderConfiguration(batchSize: 41))
        }
        #expect(throws: BNNDataError.self) {
            _ = try DataLoader(source: source, transform: TrainingTransform(),
                               configuration: DataLoaderConfiguration(batchSize: 2, rank: 2, worldSize: 2))
        }
    }

    @Test func throughputMeasuresFixtureFiles() throws {
        let files = ["baseline.jpg", "progressive.jpg", "rgb.png"].map { Fixtures.root.appendingPathComponent("images/" + $0).path }
        let result = try Throughput.measure(files: files, transform: TrainingTransform(imageSize: 32), threadCount: 2,
                                            repetitions: 2)
        #expect(result.images == 6 && result.imagesPerSecond > 0)
    }
}
