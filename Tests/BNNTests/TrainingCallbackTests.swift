@testable import BNN
import BNNTestSupport
import Foundation
import Testing

/// A clock the test advances by hand.
private final class ManualClock {
    var now = 100.0
}


@Suite struct TrainingCallbackTests {
    static func makeModel(seed: UInt64) -> Sequential {
        Initializer.withSeed(seed) {
            Sequential {
                Conv2D(inputChannels: 3, outputChannels: 4, kernelSize: 3, padding: 1)
                BatchNorm2D(channels: 4)
                HardTanh()
                GlobalAvgPool()
                Linear(inputFeatures: 4, outputFeatures: 3)
            }
        }
    }

    static func makeTrainer(_ model: Sequential) -> Trainer {
        Trainer(model: model, optimizer: Adam(ParameterGroups(model.namedParameters()), learningRate: 1e-2),
                schedule: ConstantSchedule(learningRate: 1e-2), maxGradientNorm: 5)
    }

    static func step(_ index: Int, of count: Int?, loss: Float, epoch: Int = 0) -> StepReport {
        StepReport(epoch: epoch, batchIndex: index, batchCount: count, globalStep: index + 1, loss: loss, correct: 4, count: 8,
                   learningRate: 1e-3, gradientNorm: 1, skipped: false, seconds: 0.1)
    }

    static func parameterValues(_ model: Sequential) -> [String: [Float]] {
        Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.name, $0.parameter.value.scalars) })
    }

    // MARK: ProgressDisplay

    @Test func terminalProgressRedrawsOneLineThenPrintsTheSummary() {
        let captured = CapturedText(), clock = ManualClock()
        let trainer = Self.makeTrainer(Self.makeModel(seed: 1))
        let display = ProgressDisplay(output: captured.output(isTerminal: true, columns: 120), epochs: 3,
                                      refreshInterval: 1, clock: { clock.now })
        display.epochWillStart(trainer, epoch: 0, batchCount: 5)
        for index in 0..<5 {
            clock.now += 0.4
            display.batchDidFinish(trainer, report: Self.step(index, of: 5, loss: Float(index + 1)))
        }
        #expect(!captured.text.contains("\n"), "the bar is redrawn in place")
        let draws = captured.text.components(separatedBy: "\r").filter { !$0.isEmpty }
        // Redrawn at 0.4 s (first), 1.6 s (1.2 s later) and 2 s (last batch); not at 0.8 s or 1.2 s.
        #expect(draws.count == 3)
        #expect(draws.allSatisfy { $0.hasPrefix("epoch 1/3 [") && $0.hasSuffix("\u{1B}[K") && $0.count <= 119 + 3 })
        #expect(draws.first?.contains("] 1/5 loss 1.0000 acc 50.00% 20.0 img/s lr 1.00e-03 ETA 0:02") == true)
        #expect(draws.last == "epoch 1/3 [" + String(repeating: "=", count: 30)
                + "] 5/5 loss 3.0000 acc 50.00% 20.0 img/s lr 1.00e-03 ETA 0:00\u{1B}[K")

        captured.text = ""
        trainer.progress.bestEpoch = 0
        display.epochDidFinish(trainer, report: TrainingTestFixtures.epochReport(0))
        #expect(captured.text == "\r\u{1B}[Kepoch 1/3: train loss 2.5000 acc 50.00% | val loss 1.2500 top-1 40.00% "
                + "top-5 90.00% (best) | lr 1.00e-03 | 20.0 img/s | 0:02\n")
    }

    @Test func narrowTerminalDropsTheBarAndCutsTheLine() {
        let captured = CapturedText()
        let trainer = Self.makeTrainer(Self.makeModel(seed: 1))
        let display = ProgressDisplay(output: captured.output(isTerminal: true, columns: 40), clock: { 1 })
        display.epochWillStart(trainer, epoch: 4, batchCount: 1000)
        display.batchDidFinish(trainer, report: Self.step(0, of: 1000, loss: 1, epoch: 4))
        #expect(captured.text == "\r" + String("epoch 5 1/1000 loss 1.0000 acc 50.00% 0.0 img/s".prefix(39)) + "\u{1B}[K")
    }

    @Test func plainProgressPrintsPeriodicLinesForLogs() {
        let captured = CapturedText(), clock = ManualClock()
        let trainer = Self.makeTrainer(Self.makeModel(seed: 1))
        let byCount = ProgressDisplay(output: captured.output(), epochs: 3, lineEveryBatches: 2, lineEverySeconds: nil,
                                      clock: { clock.now })
        byCount.epochWillStart(trainer, epoch: 0, batchCount: 5)
        for index in 0..<5 {
            clock.now += 0.4
            byCount.batchDidFinish(trainer, report: Self.step(index, of: 5, loss: 1))
        }
        let lines = captured.text.split(separator: "\n")
        #expect(lines.count == 3, "after batches 1, 2 and 4")
        #expect(lines.first == "epoch 1/3 batch 1/5 (20.0%) loss 1.0000 acc 50.00% 20.0 img/s lr 1.00e-03 ETA 0:02")
        #expect(lines.last?.hasPrefix("epoch 1/3 batch 4/5 (80.0%) ") == true)
        #expect(!captured.text.contains("\r") && !captured.text.contains("\u{1B}"))

        captured.text = ""
        let byTime = ProgressDisplay(output: captured.output(), lineEveryBatches: nil, lineEverySeconds: 1, clock: { clock.now })
        byTime.epochWillStart(trainer, epoch: 1, batchCount: nil)
        for index in 0..<5 {
            clock.now += 0.4
            byTime.batchDidFinish(trainer, report: Self.step(index, of: nil, loss: 1, epoch: 1))
        }
        #expect(captured.text.split(separator: "\n").map { String($0.prefix(16)) } == ["epoch 2 batch 1 ", "epoch 2 batch 4 "])
        #expect(!captured.text.contains("ETA"), "no ETA without a batch count")

        captured.text = ""
        trainer.progress.batchInEpoch = 2
        byCount.epochDidFinish(trainer, report: TrainingTestFixtures.epochReport(0, interrupted: true, validation: false))
        #expect(captured.text == "epoch 1/3 interrupted after 2/5 batches: train loss 2.5000 acc 50.00% | lr 1.00e-03 | 20.0 img/s | 0:02\n")
    }

    // MARK: MetricsLog

    @Test func metricsLogWritesJSONLinesAndAppendsOnResume() throws {
        let directory = try TrainingTestFixtures.temporaryDirectory(prefix: "bnn-callbacks")
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("metrics.jsonl")
        let trainer = Self.makeTrainer(Self.makeModel(seed: 2))
        trainer.callbacks = [try MetricsLog(url: url, stepInterval: 2)]
        for epoch in 0..<2 { trainer.runEpoch(training: TrainingTestFixtures.batches(seed: UInt64(epoch)), validation: TrainingTestFixtures.batches(seed: 9), batchCount: 4) }

        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
        let objects = try lines.map { try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        #expect(objects.map { $0["type"] as? String } == ["step", "step", "epoch", "step", "step", "epoch"])
        #expect(objects.map { $0["global_step"] as? Int } == [2, 4, 4, 6, 8, 8])
        #expect(objects[0]["steps"] as? Int == 2 && objects[0]["count"] as? Int == 8)
        let epochRecord = objects[5]
        #expect(epochRecord["epoch"] as? Int == 1 && epochRecord["validation_count"] as? Int == 16)
        #expect((epochRecord["time"] as? String).flatMap { ISO8601DateFormatter.withMilliseconds.date(from: $0) } != nil)

        // Every field of EpochReport is in the record, flattened (validation.top1 → validation_top1).
        let report = try JSONSerialization.jsonObject(with: JSONEncoder().encode(TrainingTestFixtures.epochReport(0))) as? [String: Any] ?? [:]
        func snakeCase(_ key: String) -> String {
            key.reduce(into: "") { result, c in result += c.isUppercase ? "_" + c.lowercased() : String(c) }
        }
        var expectedKeys = Set(report.keys.filter { $0 != "validation" }.map(snakeCase))
        expectedKeys.formUnion((report["validation"] as? [String: Any] ?? [:]).keys.map { "validation_" + snakeCase($0) })
        #expect(expectedKeys.subtracting(epochRecord.keys).isEmpty, "missing \(expectedKeys.subtracting(epochRecord.keys))")

        // A crash left half a line; a resumed run appends on a new line and readers skip the broken one.
        let handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("{\"type\":\"epo".utf8))
        try handle.close()
        trainer.callbacks = [try MetricsLog(url: url)]
        trainer.runEpoch(training: TrainingTestFixtures.batches(seed: 3), validation: TrainingTestFixtures.batches(seed: 9), batchCount: 4)
        let resumed = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
        #expect(resumed.count == 8 && Array(resumed.prefix(6)) == lines)
        #expect(try MetricsLog.epochRecords(in: url).map(\.epoch) == [0, 1, 2])
        #expect(try MetricsLog.records(in: url).count == 7)
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/dev/full"), "needs /dev/full (Linux)"))
    func metricsLogReportsWriteErrorsOnceAndOpenErrorsAtOnce() throws {
        let errors = CapturedText()
        let trainer = Self.makeTrainer(Self.makeModel(seed: 2))
        // Every write to /dev/full fails with "No space left on device".
        let log = try MetricsLog(url: URL(fileURLWithPath: "/dev/full"), errorOutput: errors.output())
        log.epochDidFinish(trainer, report: TrainingTestFixtures.epochReport(0))
        log.epochDidFinish(trainer, report: TrainingTestFixtures.epochReport(1))
        #expect(errors.text.components(separatedBy: "\n").filter { !$0.isEmpty }.count == 1)
        #expect(errors.text.contains("/dev/full"))
        #expect(throws: TrainingCallbackError.self) { try MetricsLog(url: URL(fileURLWithPath: "/nonexistent/dir/metrics.jsonl")) }
    }


    @Test func checkpointWriterKeepsLastAndBestResumable() throws {
        let directory = try TrainingTestFixtures.temporaryDirectory(prefix: "bnn-callbacks")
        defer { try? FileManager.default.removeItem(at: directory) }
        let run = directory.appendingPathComponent("run/nested")
        let model = Self.makeModel(seed: 4)
        let trainer = Self.makeTrainer(model)
        let errors = CapturedText(), log = CapturedText()
        let writer = try CheckpointWriter(directory: run, metadata: ["config": "{\"epochs\":2}"], log: log.output(),
                                          errorOutput: errors.output())
        trainer.callbacks = [writer]
        trainer.runEpoch(training: TrainingTestFixtures.batches(seed: 0), validation: TrainingTestFixtures.batches(seed: 9), batchCount: 4)
        #expect(trainer.progress.bestEpoch == 0)
        let bestWeights = Self.parameterValues(model)

        // Epoch 1 is not the best: only last.safetensors changes.
        trainer.callbacks = []
        let report = trainer.runEpoch(training: TrainingTestFixtures.batches(seed: 1), validation: TrainingTestFixtures.batches(seed: 9), batchCount: 4)
        trainer.progress.bestTop1 = 1
        trainer.progress.bestEpoch = 0
        writer.epochDidFinish(trainer, report: report)
        let lastWeights = Self.parameterValues(model)
        #expect(lastWeights != bestWeights)

        let restored = Self.makeModel(seed: 99)
        let resumed = Self.makeTrainer(restored)
        let best = try resumed.restore(from: writer.bestURL)
        #expect(Self.parameterValues(restored) == bestWeights && resumed.progress.epoch == 1)
        #expect(best.metadata["config"] == "{\"epochs\":2}")
        #expect(try best.decodeMetadata(EpochReport.self, forKey: CheckpointWriter.epochReportMetadataKey).epoch == 0)
        try resumed.restore(from: writer.lastURL)
        #expect(Self.parameterValues(restored) == lastWeights && resumed.progress.epoch == 2)

        // Ctrl-C in epoch 2: last.safetensors resumes mid-epoch, best.safetensors stays.
        final class StopAfterTwo: TrainingCallback {
            func batchDidFinish(_ trainer: Trainer, report: StepReport) { if report.batchIndex == 1 { trainer.requestStop() } }
        }
        trainer.callbacks = [StopAfterTwo(), writer]
        #expect(trainer.runEpoch(training: TrainingTestFixtures.batches(seed: 2), validation: TrainingTestFixtures.batches(seed: 9), batchCount: 4).interrupted)
        try resumed.restore(from: writer.lastURL)
        #expect(resumed.progress.epoch == 2 && resumed.progress.batchInEpoch == 2)
        try resumed.restore(from: writer.bestURL)
        #expect(Self.parameterValues(restored) == bestWeights)
        #expect(errors.text.isEmpty)
        #expect(log.text.split(separator: "\n").count == 3 && log.text.contains("interrupted at batch 2 of epoch 3"))
        let names = try FileManager.default.contentsOfDirectory(atPath: run.path).sorted()
        #expect(names == ["best.safetensors", "last.safetensors"])

        // A save that fails is reported and training goes on.
        try FileManager.default.removeItem(at: run)
        try Data().write(to: run)
        writer.epochDidFinish(trainer, report: TrainingTestFixtures.epochReport(3))
        #expect(errors.text.hasPrefix("error: checkpoint after epoch 4 not saved to \(writer.lastURL.path)"))
    }
}

private extension ISO8601DateFormatter {
    static var withMilliseconds: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}
