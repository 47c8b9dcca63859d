@testable import BNN
import BNNTestSupport
import Foundation
import Testing

/// Hostile inputs and data loss (issue 13): one test per class of fault, each of which failed before its fix.
@Suite struct RobustnessTests {
    typealias Support = TrainingCallbackTests

    /// Text written to a ``TrainingOutput``.
    final class Captured {
        var text = ""
        var output: TrainingOutput { TrainingOutput(isTerminal: false, columns: nil) { self.text += $0 } }
    }

    static func poison(_ model: Sequential) {
        let weight = model.namedParameters().first { $0.name.hasSuffix("weight") }!.parameter
        var values = weight.value.scalars
        values[0] = .nan
        weight.value = Tensor(shape: weight.value.shape, scalars: values)
    }

    /// Trains `batches` through ``Trainer/runEpoch(training:validation:batchCount:firstBatchIndex:)`` of an
    /// epoch twice as long and stops after them, as Ctrl-C would: the next checkpoint is a mid-epoch one.
    static func stop(_ trainer: Trainer, after batches: [LabeledBatch]) {
        final class StopAfter: TrainingCallback {
            let count: Int
            init(_ count: Int) { self.count = count }
            func batchDidFinish(_ trainer: Trainer, report: StepReport) {
                if report.batchIndex + 1 == count { trainer.requestStop() }
            }
        }
        trainer.callbacks = [StopAfter(batches.count)]
        trainer.runEpoch(training: batches + batches, validation: [LabeledBatch]?.none)
        trainer.callbacks = []
    }

    @Test func nanLogitsCountAsWrong() {
        let logits = Tensor(shape: [3, 3], scalars: [.nan, .nan, .nan,   1, .nan, 0,   0, 2, 1])
        #expect(Accuracy.correctCount(logits, labels: [0, 0, 1], topK: 1) == 1)
        #expect(Accuracy.correctCount(logits, labels: [0, 0, 1], topK: 3) == 1)
    }

    @Test func divergedRunStopsWithoutReplacingCheckpoints() throws {
        let directory = try TrainingTestFixtures.temporaryDirectory(prefix: "bnn-robustness")
        let model = Support.makeModel(seed: 1)
        let trainer = Support.makeTrainer(model)
        let errors = Captured()
        let writer = try CheckpointWriter(directory: directory, errorOutput: errors.output)
        trainer.callbacks = [writer]
        let good = trainer.runEpoch(training: TrainingTestFixtures.batches(seed: 2), validation: TrainingTestFixtures.batches(seed: 3, count: 1))
        #expect(good.divergence == nil)
        let lastBefore = try Data(contentsOf: writer.lastURL), bestBefore = try Data(contentsOf: writer.bestURL)
        let progressBefore = trainer.progress

        Self.poison(model)
        let report = trainer.runEpoch(training: TrainingTestFixtures.batches(seed: 4, count: 6), validation: TrainingTestFixtures.batches(seed: 3, count: 1),
                                      batchCount: 6)
        let divergence = try #require(report.divergence)
        #expect(divergence.reason.contains("3 consecutive"))
        #expect(report.validation == nil)
        #expect(trainer.progress.epoch == progressBefore.epoch && trainer.progress.bestTop1 == progressBefore.bestTop1)
        #expect(try Data(contentsOf: writer.lastURL) == lastBefore)
        #expect(try Data(contentsOf: writer.bestURL) == bestBefore)
        #expect(errors.text.contains("diverged"))
    }

    @Test func epochOfSkippedStepsIsDivergence() throws {
        let model = Support.makeModel(seed: 1)
        let trainer = Trainer(model: model, optimizer: Adam(ParameterGroups(model.namedParameters()), learningRate: 1e-2),
                              schedule: ConstantSchedule(learningRate: 1e-2), lossScaler: DynamicLossScaler())
        trainer.divergenceWatcher = DivergenceWatcher(consecutiveLimit: 1000)   // only the skip rule can fire
        Self.poison(model)
        let report = trainer.runEpoch(training: TrainingTestFixtures.batches(seed: 4, count: 4), validation: [LabeledBatch]?.none, batchCount: 4)
        #expect(report.skippedSteps == 4)
        #expect(report.divergence?.reason.contains("whole epoch") == true)
    }

    @Test func nonFiniteWeightsAtEpochEndAreDivergence() {
        let model = Support.makeModel(seed: 1)
        let trainer = Support.makeTrainer(model)
        // The last step poisons the running statistics: the loss stayed finite, the model is broken.
        let buffer = model.namedParameters().first { $0.name.hasSuffix("running_var") }!.parameter
        buffer.value = Tensor(repeating: .infinity, shape: buffer.value.shape)
        let report = trainer.runEpoch(training: [LabeledBatch](), validation: [LabeledBatch]?.none)
        #expect(report.divergence?.reason.contains("running_var") == true)
        #expect(trainer.progress.epoch == 0)
    }

    @Test func newRunRefusedInUsedRunDirectory() throws {
        let directory = try TrainingTestFixtures.temporaryDirectory(prefix: "bnn-robustness")
        try RunDirectory.prepare(directory, for: .newRun)   // empty: fine
        try Data("{}\n".utf8).write(to: directory.appendingPathComponent("metrics.jsonl"))
        try Data().write(to: directory.appendingPathComponent(".last.safetensors.1234.tmp"))
        #expect(throws: TrainingCallbackError.runDirectoryInUse(path: directory.path, files: ["metrics.jsonl"])) {
            try RunDirectory.prepare(directory, for: .newRun)
        }
        #expect(try RunDirectory.prepare(directory, for: .resume) == [".last.safetensors.1234.tmp"])
        try RunDirectory.prepare(directory, for: .overwrite)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
        let file = directory.appendingPathComponent("metrics.jsonl")
        try Data().write(to: file)
        #expect(throws: TrainingCallbackError.cannotCreateDirectory(path: file.path, reason: "a file of that name exists")) {
            try RunDirectory.prepare(file, for: .newRun)
        }
    }

    @Test func failedSavesAreRecordedAndSummarised() throws {
        let directory = try TrainingTestFixtures.temporaryDirectory(prefix: "bnn-robustness")
        let trainer = Support.makeTrainer(Support.makeModel(seed: 1))
        let errors = Captured()
        let writer = try CheckpointWriter(directory: directory, errorOutput: errors.output)
        trainer.callbacks = [writer]
        trainer.runEpoch(training: TrainingTestFixtures.batches(seed: 2), validation: TrainingTestFixtures.batches(seed: 3, count: 1))
        #expect(writer.failures.isEmpty)
        #expect(writer.onDiskSummary().contains("last.safetensors: after epoch 1; best.safetensors: after epoch 1"))
        try FileManager.default.removeItem(at: directory)   // as a disk that disappears or refuses writes
        trainer.runEpoch(training: TrainingTestFixtures.batches(seed: 2), validation: TrainingTestFixtures.batches(seed: 3, count: 1))
        #expect(writer.failures.map(\.epoch) == [1])
        #expect(writer.onDiskSummary().contains("last.safetensors: none; best.safetensors: none; NOT saved: epoch 2"))
    }

    @Test func logAgreesWithResumedCheckpoint() throws {
        let directory = try TrainingTestFixtures.temporaryDirectory(prefix: "bnn-robustness")
        let log = directory.appendingPathComponent("metrics.jsonl")
        let trainer = Support.makeTrainer(Support.makeModel(seed: 1))
        let writer = try CheckpointWriter(directory: directory)
        trainer.callbacks = [writer, try MetricsLog(url: log)]
        for _ in 0..<2 { trainer.runEpoch(training: TrainingTestFixtures.batches(seed: 2), validation: TrainingTestFixtures.batches(seed: 3, count: 1)) }
        let checkpoint = try Checkpoint(contentsOf: writer.lastURL)   // after epoch 2
        // A third epoch was logged but its save was lost (killed), and epoch 2's line never made it.
        trainer.callbacks = [try MetricsLog(url: log)]
        trainer.runEpoch(training: TrainingTestFixtures.batches(seed: 2), validation: TrainingTestFixtures.batches(seed: 3, count: 1))
        var lines = try String(contentsOf: log, encoding: .utf8).split(separator: "\n").map(String.init)
        lines.remove(at: 1)
        try (lines.joined(separator: "\n") + "\n{\"type\":\"epo").write(to: log, atomically: true, encoding: .utf8)

        try MetricsLog.reconcile(log, with: checkpoint)
        #expect(try MetricsLog.epochRecords(in: log).map(\.epoch) == [0, 1])
        #expect(try MetricsLog.epochRecords(in: log).map(\.globalStep) == [4, 8])
    }

    @Test func epochResumedAtItsLastBatchReportsTheWholeEpoch() throws {
        let directory = try TrainingTestFixtures.temporaryDirectory(prefix: "bnn-robustness")
        let url = directory.appendingPathComponent("mid.safetensors")
        let batches = TrainingTestFixtures.batches(seed: 2)
        let first = Support.makeTrainer(Support.makeModel(seed: 1))
        Self.stop(first, after: batches)
        try first.saveCheckpoint(to: url)
        let resumed = Support.makeTrainer(Support.makeModel(seed: 1))
        try resumed.restore(from: url)
        let report = resumed.runEpoch(training: batches, validation: [LabeledBatch]?.none)
        #expect(report.count == 16)
        #expect(report.loss > 0)
    }

    @Test func nonFiniteOrNegativeVarianceCheckpointsAreRefused() throws {
        let directory = try TrainingTestFixtures.temporaryDirectory(prefix: "bnn-robustness")
        let url = directory.appendingPathComponent("bad.safetensors")
        let model = Support.makeModel(seed: 1)
        Self.poison(model)
        try Checkpoint.save(model, to: url)
        #expect {
            try Checkpoint(contentsOf: url).load(into: Support.makeModel(seed: 2))
        } throws: { error in
            guard case CheckpointError.invalidValue(_, let tensor, _, let reason) = error else { return false }
            return tensor == "0.weight" && reason.contains("nan")
        }
        let negative = Support.makeModel(seed: 1)
        let variance = negative.namedParameters().first { $0.name.hasSuffix("running_var") }!.parameter
        variance.value = Tensor(repeating: -1, shape: variance.value.shape)
        try Checkpoint.save(negative, to: url)
        #expect {
            try Checkpoint(contentsOf: url).load(into: Support.makeModel(seed: 2))
        } throws: { error in
            guard case CheckpointError.invalidValue(_, let tensor, _, let reason) = error else { return false }
            return tensor == "1.running_var" && reason.contains("variance")
        }
    }

    @Test func sizesFromFilesAreOverflowChecked() {
        #expect(CheckedSize.elementCount([]) == 1)
        #expect(CheckedSize.byteCount([3, 5], bytesPerElement: 4) == 60)
        #expect(CheckedSize.elementCount([1 << 62, 4]) == nil)
        #expect(CheckedSize.byteCount([1 << 61], bytesPerElement: 8) == nil)
        #expect(CheckedSize.elementCount([-1, 0]) == nil)
    }

    @Test func directoryGivenAsCheckpointIsNamedPlainly() throws {
        let directory = try TrainingTestFixtures.temporaryDirectory(prefix: "bnn-robustness")
        #expect(throws: SafeTensorsError.io(file: directory.path, operation: "read the file", reason: "is a directory, expected a file")) {
            _ = try SafeTensorsFile(contentsOf: directory)
        }
    }
}
