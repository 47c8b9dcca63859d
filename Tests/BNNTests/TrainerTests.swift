import BNN
import Foundation
import Testing

@Suite struct TrainerTests {
    static func makeModel(seed: UInt64) -> Sequential {
        Initializer.withSeed(seed) {
            Sequential {
                Conv2D(inputChannels: 3, outputChannels: 8, kernelSize: 3, padding: 1)
                BatchNorm2D(channels: 8)
                HardTanh()
                Residual(body: Sequential(named: [
                    ("binary_conv", BinaryConv2D(inputChannels: 8, outputChannels: 8,
                                                 inputQuantizer: SignActivation(normalizesVariance: true))),
                    ("bn1", BatchNorm2D(channels: 8)),
                ]), post: HardTanh())
                GlobalAvgPool()
                Linear(inputFeatures: 8, outputFeatures: 3)
            }
        }
    }

    static func batches(epoch: Int) -> [LabeledBatch] {
        var g = SeededGenerator(seed: 1000 + UInt64(epoch))
        return (0..<4).map { i in
            LabeledBatch(images: Tensor(randomNormal: [4, 5, 5, 3], generator: &g), labels: (0..<4).map { ($0 + i) % 3 })
        }
    }

    static func makeTrainer(_ model: Sequential) -> Trainer {
        let groups = ParameterGroups(model.namedParameters())
        return Trainer(model: model, optimizer: Adam(groups, learningRate: 1e-2),
                       schedule: CosineSchedule(baseLearningRate: 1e-2, minLearningRate: 1e-4, totalSteps: 8),
                       maxGradientNorm: 5, lossScaler: DynamicLossScaler(initialScale: 1024))
    }

    final class StopAfter: TrainingCallback {
        let batches: Int
        init(batches: Int) { self.batches = batches }
        func batchDidFinish(_ trainer: Trainer, report: StepReport) {
            if report.batchIndex + 1 == batches { trainer.requestStop() }
        }
    }

    final class Recorder: TrainingCallback {
        var events: [String] = []
        func epochWillStart(_ trainer: Trainer, epoch: Int, batchCount: Int?) { events.append("start \(epoch)") }
        func batchDidFinish(_ trainer: Trainer, report: StepReport) { events.append("batch \(report.batchIndex)") }
        func epochDidFinish(_ trainer: Trainer, report: EpochReport) {
            events.append("end \(report.epoch) \(report.interrupted ? "interrupted" : "done")")
        }
    }

    @Test func resumingAnInterruptedRunGivesTheSameWeights() throws {
        let reference = Self.makeModel(seed: 5)
        let uninterrupted = Self.makeTrainer(reference)
        for epoch in 0..<2 { uninterrupted.runEpoch(training: Self.batches(epoch: epoch), validation: Self.batches(epoch: 99)) }

        let model = Self.makeModel(seed: 5)
        let first = Self.makeTrainer(model)
        let recorder = Recorder()
        first.callbacks = [recorder, StopAfter(batches: 6)]
        first.runEpoch(training: Self.batches(epoch: 0), validation: Self.batches(epoch: 99))
        first.callbacks = [recorder, StopAfter(batches: 2)]
        let interrupted = first.runEpoch(training: Self.batches(epoch: 1), validation: Self.batches(epoch: 99))
        #expect(interrupted.interrupted && interrupted.validation == nil)
        #expect(first.progress.epoch == 1 && first.progress.batchInEpoch == 2 && first.progress.globalStep == 6)
        #expect(recorder.events == ["start 0", "batch 0", "batch 1", "batch 2", "batch 3", "end 0 done",
                                    "start 1", "batch 0", "batch 1", "end 1 interrupted"])

        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bnn-trainer-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try first.saveCheckpoint(to: url, metadata: ["note": "test"])

        let resumedModel = Self.makeModel(seed: 77)       // different initial weights, overwritten by restore
        let resumed = Self.makeTrainer(resumedModel)
        let checkpoint = try resumed.restore(from: url)
        #expect(checkpoint.metadata["note"] == "test")
        #expect(resumed.progress == first.progress)
        // The data source starts at the resume point (a loader that seeks): the trainer drops nothing more.
        let remaining = Array(Self.batches(epoch: 1).dropFirst(resumed.progress.batchInEpoch))
        let final = resumed.runEpoch(training: remaining, validation: Self.batches(epoch: 99),
                                     firstBatchIndex: resumed.progress.batchInEpoch)
        #expect(final.count == 16)   // two batches trained now, the report covers the whole epoch (epochTotals)
        #expect(resumed.progress.epoch == 2 && resumed.progress.globalStep == 8)

        let expected = reference.namedParameters()
        for ((name, a), (_, b)) in zip(expected, resumedModel.namedParameters()) {
            #expect(a.value == b.value, "\(name) differs after resume")
        }
        #expect(resumed.lossScaler?.scale == uninterrupted.lossScaler?.scale)
        #expect(resumed.progress.bestTop1 == uninterrupted.progress.bestTop1)

        // Given the whole epoch, the trainer drops the batches already done itself: the same weights.
        let droppingModel = Self.makeModel(seed: 78)
        let dropping = Self.makeTrainer(droppingModel)
        try dropping.restore(from: url)
        #expect(dropping.runEpoch(training: Self.batches(epoch: 1), validation: Self.batches(epoch: 99)).count == 16)
        for ((name, a), (_, b)) in zip(expected, droppingModel.namedParameters()) {
            #expect(a.value == b.value, "\(name) differs after a resume that drops batches")
        }
    }

    @Test("the allocator keeps freed memory where the C library is glibc")
    func allocatorTuningApplies() {
        #if os(Linux) && canImport(Glibc)
        #expect(AllocatorTuning.keepFreedMemory(upTo: 1 << 30))
        #else
        #expect(!AllocatorTuning.keepFreedMemory(upTo: 1 << 30))
        #endif
    }

    @Test func trainingReducesTheLossAndEvaluationReportsAccuracy() {
        let model = Self.makeModel(seed: 3)
        let trainer = Self.makeTrainer(model)
        let data = Self.batches(epoch: 0)
        let before = trainer.evaluate(data)
        for _ in 0..<8 { trainer.runEpoch(training: data, validation: Optional<[LabeledBatch]>.none) }
        let after = trainer.evaluate(data)
        #expect(after.loss < before.loss)
        #expect(after.count == 16 && after.top5 == 1)     // 3 classes: top-5 always right
        #expect(after.top1 >= before.top1)
    }
}
