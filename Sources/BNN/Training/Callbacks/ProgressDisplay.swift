import Dispatch
import Foundation

/// Shows training progress: a progress bar redrawn in place on a terminal, plain periodic lines
/// otherwise (so CI logs stay readable), and one summary line per epoch.
///
/// Epochs are shown 1-based (`epoch 1/300` is ``EpochReport/epoch`` 0). The running loss and accuracy
/// are means over the batches of the epoch trained since it started (or resumed); images per second
/// and the epoch's ETA are measured on the wall clock, data loading included.
///
/// On a terminal (``TrainingOutput/isTerminal``) the line looks like
/// ```
/// epoch 3/300 [=========>          ] 1234/5004 loss 2.3456 acc 45.12% 1234 img/s lr 1.00e-03 ETA 12:34
/// ```
/// and is cut to the terminal width. Elsewhere a line like
/// `epoch 3/300 batch 1234/5004 (24.7%) loss 2.3456 acc 45.12% 1234 img/s lr 1.00e-03 ETA 12:34`
/// is printed after the first batch of an epoch, then every `lineEveryBatches` batches and/or every
/// `lineEverySeconds` seconds. At the end of an epoch:
/// ```
/// epoch 3/300: train loss 2.3456 acc 45.12% | val loss 2.1000 top-1 50.00% top-5 75.00% (best) | lr 1.00e-03 | 1234 img/s | 12:34
/// ```
public final class ProgressDisplay: TrainingCallback {
    /// Where the text goes.
    public let output: TrainingOutput
    /// The number of epochs of the run, shown as `epoch 3/300` when known.
    public var epochs: Int?
    /// Without a terminal: print a line every this many batches (`nil`: not by batch count).
    public let lineEveryBatches: Int?
    /// Without a terminal: print a line when this many seconds passed since the last (`nil`: not by time).
    public let lineEverySeconds: Double?
    /// On a terminal: redraw the bar at most this often, in seconds.
    public let refreshInterval: Double
    private let clock: () -> Double

    private var batchCount: Int?
    private var epochStart = 0.0
    private var batches = 0
    private var images = 0
    private var correct = 0
    private var lossSum = 0.0
    private var lastOutputTime = -Double.infinity
    private var barShown = false

    /// Creates a display.
    ///
    /// - Parameters:
    ///   - output: Where to write; standard output by default.
    ///   - epochs: The number of epochs of the run, if known.
    ///   - lineEveryBatches: Without a terminal, print a line every this many batches (≥ 1), or `nil`.
    ///   - lineEverySeconds: Without a terminal, print a line at most every this many seconds, or `nil`.
    ///   - refreshInterval: On a terminal, the minimum time between redraws, in seconds.
    ///   - clock: A monotonic clock in seconds; tests pass a fake one.
    public init(output: TrainingOutput = .standardOutput, epochs: Int? = nil, lineEveryBatches: Int? = nil,
                lineEverySeconds: Double? = 30, refreshInterval: Double = 0.2,
                clock: @escaping () -> Double = ProgressDisplay.monotonicSeconds) {
        precondition(lineEveryBatches.map { $0 >= 1 } ?? true, "ProgressDisplay: lineEveryBatches must be at least 1")
        self.output = output
        self.epochs = epochs
        self.lineEveryBatches = lineEveryBatches
        self.lineEverySeconds = lineEverySeconds
        self.refreshInterval = refreshInterval
        self.clock = clock
    }

    /// Seconds since an arbitrary fixed point, from the monotonic system clock.
    public static func monotonicSeconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    /// Resets the running metrics.
    public func epochWillStart(_ trainer: Trainer, epoch: Int, batchCount: Int?) {
        self.batchCount = batchCount
        epochStart = clock()
        batches = 0
        images = 0
        correct = 0
        lossSum = 0
        lastOutputTime = -.infinity
    }

    /// Updates the running metrics and redraws the bar or prints a line when due.
    public func batchDidFinish(_ trainer: Trainer, report: StepReport) {
        batches += 1
        images += report.count
        correct += report.correct
        lossSum += Double(report.loss) * Double(report.count)
        let now = clock()
        let isLast = batchCount.map { report.batchIndex + 1 >= $0 } ?? false
        if output.isTerminal {
            guard now - lastOutputTime >= refreshInterval || isLast else { return }
            output.write("\r" + terminalLine(report, now: now) + "\u{1B}[K")
            barShown = true
        } else {
            let byCount = lineEveryBatches.map { batches % $0 == 0 } ?? false
            let byTime = lineEverySeconds.map { now - lastOutputTime >= $0 } ?? false
            guard batches == 1 || byCount || byTime else { return }
            output.write(plainLine(report, now: now) + "\n")
        }
        lastOutputTime = now
    }

    /// Prints the epoch's summary line (replacing the bar on a terminal).
    public func epochDidFinish(_ trainer: Trainer, report: EpochReport) {
        var parts: [String] = []
        var head = epochLabel(report.epoch)
        if report.interrupted {
            head += " interrupted after \(trainer.progress.batchInEpoch)" + (batchCount.map { "/\($0)" } ?? "") + " batches"
        }
        parts.append(head + ": train loss \(MetricFormat.loss(report.loss)) acc \(MetricFormat.percent(report.accuracy))")
        if let validation = report.validation {
            let best = trainer.progress.bestEpoch == report.epoch ? " (best)" : ""
            parts.append("val loss \(MetricFormat.loss(validation.loss)) top-1 \(MetricFormat.percent(validation.top1)) "
                         + "top-5 \(MetricFormat.percent(validation.top5))" + best)
        }
        parts.append("lr \(MetricFormat.learningRate(report.learningRate))")
        parts.append("\(MetricFormat.rate(report.imagesPerSecond)) img/s")
        if report.skippedSteps > 0 { parts.append("\(report.skippedSteps) skipped steps") }
        parts.append(MetricFormat.duration(report.seconds))
        output.write((barShown ? "\r\u{1B}[K" : "") + parts.joined(separator: " | ") + "\n")
        barShown = false
    }

    private func epochLabel(_ epoch: Int) -> String {
        "epoch \(epoch + 1)" + (epochs.map { "/\($0)" } ?? "")
    }

    /// Loss, accuracy, speed, learning rate and ETA of the epoch so far.
    private func metrics(_ report: StepReport, now: Double) -> String {
        let elapsed = now - epochStart
        let n = Double(max(images, 1))
        var text = "loss \(MetricFormat.loss(Float(lossSum / n))) acc \(MetricFormat.percent(Float(Double(correct) / n)))"
        text += " \(MetricFormat.rate(elapsed > 0 ? Double(images) / elapsed : 0)) img/s"
        text += " lr \(MetricFormat.learningRate(report.learningRate))"
        if let batchCount {
            let remaining = Double(max(batchCount - report.batchIndex - 1, 0))
            text += " ETA " + MetricFormat.duration(elapsed / Double(batches) * remaining)
        }
        return text
    }

    private func plainLine(_ report: StepReport, now: Double) -> String {
        var text = epochLabel(report.epoch) + " batch \(report.batchIndex + 1)"
        if let batchCount {
            let fraction = Double(report.batchIndex + 1) / Double(max(batchCount, 1)) * 100
            text += "/\(batchCount) (" + String(format: "%.1f", fraction) + "%)"
        }
        return text + " " + metrics(report, now: now)
    }

    /// The bar line, cut to the terminal width; the bar shrinks (or goes) to make room.
    private func terminalLine(_ report: StepReport, now: Double) -> String {
        let label = epochLabel(report.epoch)
        let counter = "\(report.batchIndex + 1)" + (batchCount.map { "/\($0)" } ?? "")
        let tail = counter + " " + metrics(report, now: now)
        let width = (output.columns ?? 100) - 1
        let room = width - label.count - tail.count - 4
        var line = label + " " + tail
        if let batchCount, room >= 10 {
            let barWidth = min(room, 30)
            let filled = min(barWidth, barWidth * (report.batchIndex + 1) / max(batchCount, 1))
            let bar = String(repeating: "=", count: max(filled - 1, 0)) + (filled > 0 ? (filled == barWidth ? "=" : ">") : "")
            line = label + " [" + bar + String(repeating: " ", count: barWidth - bar.count) + "] " + tail
        }
        return line.count > width ? String(line.prefix(max(width, 0))) : line
    }
}
