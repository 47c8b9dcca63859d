import BiRealNet
import BNN
import BNNDistributed
import BNNTestSupport
import Foundation
import Testing

@Suite struct DataParallelTests {
    static func model(seed: UInt64, widths: [Int] = [4, 4, 8, 8]) -> BiRealNet {
        Initializer.withSeed(seed) {
            BiRealNet(BiRealNetConfiguration(blocksPerStage: [1, 1, 1, 1], widths: widths, classes: 3, stem: .small))
        }
    }

    static func trainer(_ model: BiRealNet) -> Trainer {
        Trainer(model: model, optimizer: Adam(ParameterGroups(model.namedParameters()), learningRate: 1e-2),
                schedule: ConstantSchedule(learningRate: 1e-2), maxGradientNorm: 5)
    }

    /// `steps` global batches of 8 images, 12×12.
    static func globalBatches(steps: Int) -> [LabeledBatch] {
        var generator = SeededGenerator(seed: 8)
        return (0..<steps).map { step in
            LabeledBatch(images: Tensor(randomNormal: [8, 12, 12, 3], generator: &generator),
                         labels: (0..<8).map { ($0 * 5 + step) % 3 })
        }
    }

    /// Rank `rank`'s shard of a global batch: images rank, rank + world, … (the loader's order).
    static func shard(_ batch: LabeledBatch, rank: Int, world: Int) -> LabeledBatch {
        let members = Array(stride(from: rank, to: batch.labels.count, by: world))
        let size = batch.images.count / batch.labels.count
        let scalars = members.flatMap { batch.images.scalars[($0 * size)..<(($0 + 1) * size)] }
        return LabeledBatch(images: Tensor(shape: [members.count] + batch.images.shape.dropFirst(), scalars: scalars),
                            labels: members.map { batch.labels[$0] })
    }

    @Test func twoRanksWithSynchronisedBatchNormTrainLikeOneProcessOnTheGlobalBatch() throws {
        let batches = Self.globalBatches(steps: 2)
        let reference = Self.model(seed: 1)
        Self.trainer(reference).runEpoch(training: batches, validation: [LabeledBatch]?.none)

        let results = runRanks(2) { communicator -> [Tensor] in
            let model = Self.model(seed: 1 + UInt64(communicator.rank))   // rank 1 starts elsewhere
            let trainer = Self.trainer(model)
            try DataParallel(communicator: communicator, bucketBytes: 1024).attach(to: trainer, synchronizedBatchNorm: true)
            let shards = batches.map { Self.shard($0, rank: communicator.rank, world: 2) }
            let report = trainer.runEpoch(training: shards, validation: [LabeledBatch]?.none)
            #expect(report.count == 8 && !report.interrupted)
            return model.namedParameters().map(\.parameter.value)
        }
        let ranks = try results.map { try $0.get() }
        #expect(ranks[0] == ranks[1])
        let expected = reference.namedParameters().map(\.parameter.value)
        let worst = zip(ranks[0], expected).map { GradientCheck.maxRelativeError($0, $1) }.max() ?? 0
        #expect(worst < 1e-4)
        // The steps changed the weights, so the comparison means something.
        let initial = Self.model(seed: 1).namedParameters().map(\.parameter.value)
        #expect(zip(initial, expected).map { GradientCheck.maxRelativeError($0, $1) }.max() ?? 0 > 1e-3)
    }

    @Test func withoutSynchronisedBatchNormReplicasStayIdenticalIncludingRunningStatistics() throws {
        let batches = Self.globalBatches(steps: 2)
        let results = runRanks(2) { communicator -> [Tensor] in
            let model = Self.model(seed: 3)
            let trainer = Self.trainer(model)
            try DataParallel(communicator: communicator).attach(to: trainer, synchronizedBatchNorm: false)
            trainer.runEpoch(training: batches.map { Self.shard($0, rank: communicator.rank, world: 2) },
                             validation: [LabeledBatch]?.none)
            return model.namedParameters().map(\.parameter.value)
        }
        let ranks = try results.map { try $0.get() }
        #expect(ranks[0] == ranks[1])
    }

    @Test func aStopRequestedOnOneRankStopsAllAfterTheSameBatch() throws {
        let batches = Self.globalBatches(steps: 3)
        let results = runRanks(2) { communicator -> (EpochReport, TrainingProgress) in
            let trainer = Self.trainer(Self.model(seed: 4))
            try DataParallel(communicator: communicator).attach(to: trainer, synchronizedBatchNorm: false)
            if communicator.rank == 1 { trainer.requestStop() }
            let report = trainer.runEpoch(training: batches.map { Self.shard($0, rank: communicator.rank, world: 2) },
                                          validation: [LabeledBatch]?.none)
            return (report, trainer.progress)
        }
        for result in results {
            let (report, progress) = try result.get()
            #expect(report.interrupted && report.count == 0)
            #expect(progress.epoch == 0 && progress.batchInEpoch == 0)
        }
    }

    @Test func aDivergenceSeenOnOneRankStopsEveryRankAsDiverged() throws {
        let batches = Self.globalBatches(steps: 3)
        let results = runRanks(2) { communicator -> (EpochReport, TrainingProgress) in
            let trainer = Self.trainer(Self.model(seed: 4))
            try DataParallel(communicator: communicator).attach(to: trainer, synchronizedBatchNorm: false)
            // Only rank 0 watches (and sees a NaN loss on its first batch); rank 1 would train on.
            trainer.divergenceWatcher = communicator.rank == 0 ? DivergenceWatcher(consecutiveLimit: 1) : nil
            var shards = batches.map { Self.shard($0, rank: communicator.rank, world: 2) }
            if communicator.rank == 0 {
                shards[0] = LabeledBatch(images: Tensor(repeating: .nan, shape: shards[0].images.shape), labels: shards[0].labels)
            }
            let report = trainer.runEpoch(training: shards, validation: [LabeledBatch]?.none)
            return (report, trainer.progress)
        }
        let outcomes = try results.map { try $0.get() }
        for (rank, (report, progress)) in outcomes.enumerated() {
            let divergence = try #require(report.divergence, "rank \(rank) did not report the divergence")
            #expect(report.interrupted && report.count == 4, "rank \(rank) stopped after the same batch")
            #expect(divergence.globalStep == 1 && divergence.reason.contains("the loss was not finite"))
            #expect(divergence.reason.hasPrefix("on rank 0: ") == (rank == 1))
            #expect(progress.epoch == 0)
        }
    }

    struct UnreadableShard: Error, CustomStringConvertible {
        var description: String { "/data/train/cat/42.jpg: truncated JPEG" }
    }

    @Test func aRankThatCannotReadItsDataStopsEveryRankNamingItAndTheCause() throws {
        let batches = Self.globalBatches(steps: 4)
        let results = runRanks(2) { communicator -> (DistributedError?, EpochReport, TrainingProgress) in
            let trainer = Self.trainer(Self.model(seed: 5))
            let parallel = DataParallel(communicator: communicator)
            try parallel.attach(to: trainer, synchronizedBatchNorm: true)
            // Rank 1 fails after two batches, as the loader does in strict mode.
            let available = communicator.rank == 1 ? 2 : 4
            let shards = batches.prefix(available).map { Self.shard($0, rank: communicator.rank, world: 2) }
            let agreed = parallel.batches(shards, for: trainer) { communicator.rank == 1 ? UnreadableShard() : nil }
            let report = trainer.runEpoch(training: agreed, validation: [LabeledBatch]?.none)
            return (agreed.failure, report, trainer.progress)
        }
        for result in results {
            let (failure, report, progress) = try result.get()
            #expect(failure == .rankFailed(rank: 1, worldSize: 2, host: DistributedRuntime.hostName,
                                         reason: "/data/train/cat/42.jpg: truncated JPEG"))
            #expect(failure?.description.contains("rank 1 of 2 on host \(DistributedRuntime.hostName)") == true)
            #expect(report.interrupted && report.count == 8)
            #expect(progress.epoch == 0 && progress.batchInEpoch == 2)
        }
    }

    @Test func ranksWithDifferentModelsAreRejectedOnEveryRank() {
        let results = runRanks(2) { communicator in
            try DataParallel(communicator: communicator)
                .synchronizeParameters(of: Self.model(seed: 6, widths: communicator.rank == 1 ? [4, 4, 8, 16] : [4, 4, 8, 8]))
        }
        for result in results {
            #expect(throws: DistributedError.self) { try result.get() }
            if case .failure(DistributedError.modelMismatch(let rank, _)) = result { #expect(rank == 1) } else {
                Issue.record("expected a model mismatch naming rank 1, got \(result)")
            }
        }
    }

    @Test func progressIsRescaledWhenTheGlobalBatchChanges() {
        var progress = TrainingProgress()
        progress.epoch = 3
        progress.batchInEpoch = 10
        progress.globalStep = 3 * 40 + 10
        // 4 ranks × 32 → 2 ranks × 32: twice the steps per epoch.
        let resumed = progress.resumed(previousGlobalBatch: 128, globalBatch: 64, stepsPerEpoch: 80)
        #expect(resumed.epoch == 3 && resumed.batchInEpoch == 20 && resumed.globalStep == 3 * 80 + 20)
        // 1 rank × 48 → 2 ranks × 32: 480 images consumed → 7 full new batches (32 images seen twice).
        progress.batchInEpoch = 10
        let coarser = progress.resumed(previousGlobalBatch: 48, globalBatch: 64, stepsPerEpoch: 30)
        #expect(coarser.batchInEpoch == 7 && coarser.globalStep == 3 * 30 + 7)
        #expect(progress.resumed(previousGlobalBatch: 64, globalBatch: 64, stepsPerEpoch: 30) == progress)
    }
}
