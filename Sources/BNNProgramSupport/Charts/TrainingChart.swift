import Foundation
import BNN

/// Keeps a self-contained SVG chart of a run up to date: after every epoch the file is rewritten
/// (atomically: a temporary file renamed over it) with three panels — loss (train and validation),
/// accuracy (train, validation top-1 and top-5) and learning rate — over epochs, and, when
/// ``stepInterval`` is set, the training loss and learning rate every that many steps.
///
/// The file has no scripts and no external resources, so any browser shows it. The history comes
/// from the ``/BNN/EpochReport``s received; ``loadHistory(fromLog:)`` seeds it from a ``/BNN/MetricsLog`` so a
/// resumed run keeps its full curves. Interrupted epochs are not plotted. A record for epoch *e*
/// replaces any for epochs ≥ *e* (a run resumed from an older checkpoint overwrites the future it
/// abandoned). Epochs are plotted 1-based: epoch 0 ends at x = 1. Write errors are reported once on
/// the error output and never stop training.
///
/// ```swift
/// let chart = TrainingChart(url: run.appendingPathComponent("metrics.svg"), title: "Bi-Real Net 34")
/// try? chart.loadHistory(fromLog: run.appendingPathComponent("metrics.jsonl"))
/// trainer.callbacks.append(chart)
/// ```
public final class TrainingChart: TrainingCallback {
    /// The SVG file.
    public let url: URL
    /// The chart title.
    public var title: String
    /// Steps between the points of the step curves, or `nil` for epoch curves only.
    public let stepInterval: Int?
    /// The epochs plotted, in epoch order.
    public private(set) var epochRecords: [EpochLogRecord] = []
    /// The step summaries plotted, in step order.
    public private(set) var stepRecords: [StepLogRecord] = []
    private let errorOutput: TrainingOutput
    private var window: StepWindow?
    private var reportedError = false

    /// Creates a chart; nothing is written before the first epoch ends (or ``write()``).
    ///
    /// - Parameters:
    ///   - url: The SVG file to keep up to date; its directory must exist.
    ///   - title: The title at the top.
    ///   - stepInterval: Plot the training loss and learning rate every this many steps (≥ 1), or `nil`.
    ///   - errorOutput: Where a write error is reported; standard error by default.
    public init(url: URL, title: String = "Training", stepInterval: Int? = nil, errorOutput: TrainingOutput = .standardError) {
        precondition(stepInterval.map { $0 >= 1 } ?? true, "TrainingChart: stepInterval must be at least 1")
        self.url = url
        self.title = title
        self.stepInterval = stepInterval
        self.errorOutput = errorOutput
        window = stepInterval.map { StepWindow(interval: $0) }
    }

    /// Adds the records of the JSON Lines log at `logURL` (see ``/BNN/MetricsLog``), in file order; step
    /// records only when ``stepInterval`` is set.
    ///
    /// - Throws: ``/BNN/TrainingCallbackError/cannotRead(file:reason:)``.
    public func loadHistory(fromLog logURL: URL) throws {
        for entry in try MetricsLog.records(in: logURL) {
            switch entry {
            case .epoch(let epoch): record(epoch)
            case .step(let step): if stepInterval != nil { record(step) }
            }
        }
    }

    /// Adds an epoch, replacing the records of it and of later epochs; interrupted epochs are ignored.
    public func record(_ epoch: EpochLogRecord) {
        guard !epoch.interrupted else { return }
        epochRecords.removeAll { $0.epoch >= epoch.epoch }
        stepRecords.removeAll { $0.epoch > epoch.epoch }
        epochRecords.append(epoch)
    }

    /// Adds a step summary, replacing those at or after its step and the epochs from its epoch on.
    public func record(_ step: StepLogRecord) {
        stepRecords.removeAll { $0.globalStep >= step.globalStep }
        epochRecords.removeAll { $0.epoch >= step.epoch }
        stepRecords.append(step)
    }

    /// Starts a new window of steps.
    public func epochWillStart(_ trainer: Trainer, epoch: Int, batchCount: Int?) {
        window?.reset()
    }

    /// Records a step summary when one is due.
    public func batchDidFinish(_ trainer: Trainer, report: StepReport) {
        if let step = window?.add(report) { record(step) }
    }

    /// Records the epoch and rewrites the file.
    public func epochDidFinish(_ trainer: Trainer, report: EpochReport) {
        guard !report.interrupted else { return }
        record(EpochLogRecord(report, trainer: trainer))
        do {
            try write()
        } catch {
            guard !reportedError else { return }
            reportedError = true
            errorOutput.write("warning: training chart: \(error) (further errors of this chart are not shown)\n")
        }
    }

    /// Writes the chart to ``url`` atomically.
    ///
    /// - Throws: ``/BNN/TrainingCallbackError/cannotWrite(file:reason:)``.
    public func write() throws {
        let svg = Data(renderSVG().utf8)
        do {
            try AtomicFile.write(to: url) { try $0.write(contentsOf: svg) }
        } catch {
            throw TrainingCallbackError.cannotWrite(file: url.path, reason: "\(error)")
        }
    }

    /// The SVG document: a title, a summary line and the panels with ids `loss`, `accuracy` and
    /// `learning-rate`.
    public func renderSVG() -> String {
        let epochs = epochRecords.map { Double($0.epoch + 1) }
        let steps = stepRecords.compactMap { step in step.epochPosition.map { (x: $0, record: step) } }
        let xScale = ChartScale(covering: [0] + epochs + steps.map(\.x), targetTicks: 6, integerSteps: true, clamp: 0...Double.infinity)
        func epochSeries(_ name: String, _ color: String, dashed: Bool = false, _ value: (EpochLogRecord) -> Double?) -> ChartSeries {
            let points = epochRecords.compactMap { record in value(record).map { (x: Double(record.epoch + 1), y: $0) } }
            return ChartSeries(name: name, color: color, points: points, dashed: dashed)
        }
        func stepSeries(_ name: String, _ color: String, _ value: (StepLogRecord) -> Double) -> ChartSeries {
            ChartSeries(name: name, color: color, points: steps.map { (x: $0.x, y: value($0.record)) }, width: 1, markers: false)
        }
        let blue = "#1f77b4", lightBlue = "#9ecae1", red = "#d62728", orange = "#ff7f0e", green = "#2ca02c", lightGreen = "#a1d99b"
        let panels = [
            ChartPanel(id: "loss", title: "Loss", series: [
                stepSeries("train (steps)", lightBlue) { Double($0.loss) },
                epochSeries("train", blue) { Double($0.loss) },
                epochSeries("validation", red) { $0.validationLoss.map(Double.init) },
            ]),
            ChartPanel(id: "accuracy", title: "Accuracy", series: [
                epochSeries("train", blue) { Double($0.accuracy) * 100 },
                epochSeries("val top-1", red) { $0.validationTop1.map { Double($0) * 100 } },
                epochSeries("val top-5", orange, dashed: true) { $0.validationTop5.map { Double($0) * 100 } },
            ], yClamp: 0...100, yUnit: "%"),
            ChartPanel(id: "learning-rate", title: "Learning rate", series: [
                stepSeries("steps", lightGreen) { $0.learningRate },
                epochSeries("end of epoch", green) { $0.learningRate },
            ]),
        ]
        let panelWidth = 330.0, panelHeight = 270.0, gap = 12.0, top = 58.0
        let width = 3 * panelWidth + 4 * gap, height = top + panelHeight + gap
        var svg = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(ChartPanel.number(width))\" height=\"\(ChartPanel.number(height))\""
            + " viewBox=\"0 0 \(ChartPanel.number(width)) \(ChartPanel.number(height))\" font-family=\"Helvetica, Arial, sans-serif\">\n"
        svg += "<title>\(ChartPanel.escaped(title))</title>\n"
        svg += "<rect width=\"100%\" height=\"100%\" fill=\"#f7f7f7\"/>\n"
        svg += "<text x=\"\(ChartPanel.number(gap))\" y=\"26\" font-size=\"17\" font-weight=\"bold\">\(ChartPanel.escaped(title))</text>\n"
        svg += "<text x=\"\(ChartPanel.number(gap))\" y=\"45\" font-size=\"11\" fill=\"#555555\">\(ChartPanel.escaped(summary()))</text>\n"
        for (index, panel) in panels.enumerated() {
            svg += panel.svg(left: gap + Double(index) * (panelWidth + gap), top: top, width: panelWidth, height: panelHeight, xScale: xScale)
        }
        return svg + "</svg>\n"
    }

    /// The line under the title: epochs done, the best validation top-1, the last epoch's time.
    private func summary() -> String {
        guard let last = epochRecords.last else { return "no epoch finished yet" }
        var parts = ["\(epochRecords.count) epoch" + (epochRecords.count == 1 ? "" : "s"),
                     "last: train loss \(MetricFormat.loss(last.loss))"]
        if let best = epochRecords.filter({ $0.validationTop1 != nil }).max(by: { ($0.validationTop1 ?? 0) < ($1.validationTop1 ?? 0) }),
           let top1 = best.validationTop1 {
            parts.append("best val top-1 \(MetricFormat.percent(top1)) at epoch \(best.epoch + 1)")
        }
        parts.append("updated \(last.time)")
        return parts.joined(separator: " · ")
    }
}
