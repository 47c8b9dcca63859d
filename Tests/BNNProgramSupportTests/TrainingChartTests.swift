@testable import BNN
@testable import BNNProgramSupport
import BNNTestSupport
import Foundation
import Testing
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Collects the element names and `id` attributes of an XML document, failing on malformed XML.
private final class XMLOutline: NSObject, XMLParserDelegate {
    var elements: [String] = []
    var ids: [String] = []
    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName: String?, attributes: [String: String] = [:]) {
        elements.append(elementName)
        if let id = attributes["id"] { ids.append(id) }
    }

    /// Parses `data`; `nil` when it is not well-formed XML.
    static func parse(_ data: Data) -> XMLOutline? {
        let outline = XMLOutline()
        let parser = XMLParser(data: data)
        parser.delegate = outline
        return parser.parse() ? outline : nil
    }
}

@Suite struct TrainingChartTests {
    static func makeTrainer(seed: UInt64) -> Trainer {
        let model = Initializer.withSeed(seed) {
            Sequential {
                Conv2D(inputChannels: 3, outputChannels: 4, kernelSize: 3, padding: 1)
                GlobalAvgPool()
                Linear(inputFeatures: 4, outputFeatures: 3)
            }
        }
        return Trainer(model: model, optimizer: Adam(ParameterGroups(model.namedParameters()), learningRate: 1e-2),
                       schedule: ConstantSchedule(learningRate: 1e-2))
    }

    @Test func chartIsWellFormedSelfContainedSVGWithThreePanels() throws {
        let directory = try TrainingTestFixtures.temporaryDirectory(prefix: "bnn-chart")
        defer { try? FileManager.default.removeItem(at: directory) }
        let logURL = directory.appendingPathComponent("metrics.jsonl"), chartURL = directory.appendingPathComponent("metrics.svg")
        let trainer = Self.makeTrainer(seed: 3)
        let chart = TrainingChart(url: chartURL, title: "Tiny <net> & friends", stepInterval: 1)
        trainer.callbacks = [try MetricsLog(url: logURL, stepInterval: 1), chart]
        for epoch in 0..<3 { trainer.runEpoch(training: TrainingTestFixtures.batches(seed: UInt64(epoch)), validation: TrainingTestFixtures.batches(seed: 9), batchCount: 4) }

        let data = try Data(contentsOf: chartURL)
        let outline = try #require(XMLOutline.parse(data), "the SVG is well-formed XML")
        #expect(outline.elements.first == "svg")
        #expect(Set(["loss", "accuracy", "learning-rate"]).isSubset(of: outline.ids))
        #expect(outline.elements.filter { $0 == "polyline" }.count >= 7, "train/val loss, steps, 3 accuracies, lr")
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("Tiny &lt;net&gt; &amp; friends"))
        #expect(!text.contains("<script") && !text.contains("href"), "no scripts, no external resources")
        #expect(chart.epochRecords.map(\.epoch) == [0, 1, 2] && chart.stepRecords.count == 12)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".tmp") }
        #expect(leftovers.isEmpty, "the atomic write leaves no temporary file")

        // Seeding from the log restores the same curves.
        let seeded = TrainingChart(url: chartURL, stepInterval: 1)
        try seeded.loadHistory(fromLog: logURL)
        func withoutTime(_ records: [EpochLogRecord]) -> [EpochLogRecord] {
            records.map { var record = $0; record.time = ""; record.timestamp = 0; return record }
        }
        // The log and the chart each stamp their own time; everything else matches.
        #expect(withoutTime(seeded.epochRecords) == withoutTime(chart.epochRecords))
        #expect(seeded.stepRecords.map(\.globalStep) == chart.stepRecords.map(\.globalStep))
        let epochsOnly = TrainingChart(url: chartURL)
        try epochsOnly.loadHistory(fromLog: logURL)
        #expect(epochsOnly.stepRecords.isEmpty && epochsOnly.epochRecords.count == 3)

        // A run resumed from an older checkpoint replaces the epochs it redoes.
        seeded.record(EpochLogRecord(TrainingTestFixtures.epochReport(1), trainer: trainer))
        #expect(seeded.epochRecords.map(\.epoch) == [0, 1] && seeded.stepRecords.allSatisfy { $0.epoch <= 1 })
        seeded.record(EpochLogRecord(TrainingTestFixtures.epochReport(2, interrupted: true), trainer: trainer))
        #expect(seeded.epochRecords.map(\.epoch) == [0, 1], "interrupted epochs are not plotted")
    }

    @Test func emptyAndDegenerateChartsAreStillValid() throws {
        let trainer = Self.makeTrainer(seed: 3)
        let chart = TrainingChart(url: URL(fileURLWithPath: "/nonexistent/metrics.svg"))
        let empty = try #require(XMLOutline.parse(Data(chart.renderSVG().utf8)))
        #expect(Set(["loss", "accuracy", "learning-rate"]).isSubset(of: empty.ids))
        var diverged = TrainingTestFixtures.epochReport(0, validation: false)
        diverged.loss = .nan
        chart.record(EpochLogRecord(diverged, trainer: trainer))
        #expect(XMLOutline.parse(Data(chart.renderSVG().utf8)) != nil)

        let errors = CapturedText()
        let failing = TrainingChart(url: URL(fileURLWithPath: "/nonexistent/metrics.svg"), errorOutput: errors.output())
        failing.epochDidFinish(trainer, report: TrainingTestFixtures.epochReport(0))
        failing.epochDidFinish(trainer, report: TrainingTestFixtures.epochReport(1))
        #expect(errors.text.split(separator: "\n").count == 1 && errors.text.contains("/nonexistent/metrics.svg"))
    }

    @Test func chartScaleTicksAreRound() {
        let loss = ChartScale(covering: [0.93, 6.9])
        #expect(loss.ticks == [0, 2, 4, 6, 8])
        let accuracy = ChartScale(covering: [12, 99.5], clamp: 0...100)
        #expect(accuracy.lower == 0 && accuracy.upper == 100 && accuracy.ticks.count == 6)
        let learningRate = ChartScale(covering: [1e-6, 1e-3])
        #expect(learningRate.ticks.map(learningRate.label) == ["0", "0.0002", "0.0004", "0.0006", "0.0008", "0.0010"])
        let epochs = ChartScale(covering: [0, 3], targetTicks: 6, integerSteps: true)
        #expect(epochs.ticks == [0, 1, 2, 3])
        #expect(ChartScale(covering: [0.5, 0.5]).ticks.count >= 2)
    }

    // MARK: CheckpointWriter
}
