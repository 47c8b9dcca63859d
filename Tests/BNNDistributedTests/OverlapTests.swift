import BiRealNet
import BNN
import BNNDistributed
import Foundation
import Testing

@Suite struct OverlapTests {
    /// Trains 2 in-process ranks for 2 steps and returns rank 0's values, rank 1's and the buckets
    /// started during the backward pass.
    static func train(overlap: Bool, synchronizedBatchNorm: Bool) throws -> ([Tensor], [Tensor], Int) {
        let batches = DataParallelTests.globalBatches(steps: 2)
        let results = runRanks(2) { communicator -> ([Tensor], Int) in
            let model = DataParallelTests.model(seed: 1)
            let trainer = DataParallelTests.trainer(model)
            let parallel = DataParallel(communicator: communicator, bucketBytes: 1024, overlapsBackward: overlap)
            try parallel.attach(to: trainer, synchronizedBatchNorm: synchronizedBatchNorm)
            let shards = batches.map { DataParallelTests.shard($0, rank: communicator.rank, world: 2) }
            trainer.runEpoch(training: parallel.batches(shards, for: trainer) { nil }, validation: [LabeledBatch]?.none)
            return (model.namedParameters().map(\.parameter.value), parallel.gradients.overlappedBucketCount)
        }
        let ranks = try results.map { try $0.get() }
        return (ranks[0].0, ranks[1].0, ranks[0].1)
    }

    @Test(arguments: [true, false])
    func overlappedAllReduceGivesTheSameBitsAndStartsDuringTheBackwardPass(synchronizedBatchNorm: Bool) throws {
        let (plain, plainOther, plainOverlapped) = try Self.train(overlap: false, synchronizedBatchNorm: synchronizedBatchNorm)
        let (overlapped, overlappedOther, started) = try Self.train(overlap: true, synchronizedBatchNorm: synchronizedBatchNorm)
        #expect(plain == plainOther && overlapped == overlappedOther)
        #expect(overlapped == plain)
        #expect(plainOverlapped == 0)
        // 1 KiB buckets: most of the tiny model's buckets complete before its stem is differentiated.
        #expect(started >= 2 * 3)
    }

    @Test func communicationThreadRunsWorkInSubmissionOrder() {
        let thread = CommunicationThread()
        defer { thread.stop() }
        let log = OrderLog<Int>()
        for i in 0..<100 { thread.submit { log.append(i) } }
        thread.run { log.append(100) }
        #expect(log.values == Array(0...100))
    }

    @Test func watchdogFiresOnlyForAnOperationThatOutlastsItsLimit() {
        let fired = DispatchSemaphore(value: 0)
        let messages = OrderLog<String>()
        let watchdog = CollectiveWatchdog { message in
            messages.append(message)
            fired.signal()
        }
        watchdog.begin("quick all-reduce", limit: 0.3)
        watchdog.end()
        #expect(fired.wait(timeout: .now() + 1.2) == .timedOut)
        watchdog.begin("all-reduce of 12 floats", limit: 0.3)
        #expect(fired.wait(timeout: .now() + 5) == .success)
        #expect(messages.values.count == 1)
        #expect(messages.values.first?.hasPrefix("all-reduce of 12 floats has not completed after") == true)
    }
}

/// Values appended from other threads, under a lock.
final class OrderLog<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [Value] = []
    func append(_ value: Value) { lock.lock(); storage.append(value); lock.unlock() }
    var values: [Value] { lock.lock(); defer { lock.unlock() }; return storage }
}
