import Foundation

/// One line of a ``MetricsLog`` summarising the training steps since the previous step record (at
/// most ``MetricsLog/stepInterval`` steps, all of one epoch). `"type"` is `"step"`; keys are
/// snake_case and sorted:
/// ```json
/// {"accuracy":0.002,"batch_count":5004,"batch_index":99,"count":12800,"epoch":0,"global_step":100,
///  "gradient_norm":2.1,"learning_rate":0.001,"loss":6.5,"seconds":40.1,"skipped_steps":0,"steps":100,
///  "time":"2026-11-29T01:23:45.678Z","timestamp":1795919025.678,"type":"step"}
/// ```
public struct StepLogRecord: Codable, Equatable, Sendable {
    /// Always `"step"`.
    public var type = "step"
    /// When the last step ended, ISO 8601 in UTC with milliseconds.
    public var time: String
    /// When the last step ended, in seconds since 1970-01-01 UTC.
    public var timestamp: Double
    /// The epoch (0-based).
    public var epoch: Int
    /// Index of the last step's batch within the epoch (0-based).
    public var batchIndex: Int
    /// Batches in the epoch, when known.
    public var batchCount: Int?
    /// ``StepReport/globalStep`` of the last step.
    public var globalStep: Int
    /// Steps summarised.
    public var steps: Int
    /// Mean loss over the images of those steps.
    public var loss: Float
    /// Top-1 training accuracy over those images, in [0, 1].
    public var accuracy: Float
    /// Images in those steps.
    public var count: Int
    /// The last step's learning rate.
    public var learningRate: Double
    /// The last step's global gradient norm before clipping, when clipping is on.
    public var gradientNorm: Float?
    /// Steps skipped by loss scaling.
    public var skippedSteps: Int
    /// Compute seconds of those steps (``StepReport/seconds`` summed; data loading excluded).
    public var seconds: Double

    enum CodingKeys: String, CodingKey {
        case type, time, timestamp, epoch
        case batchIndex = "batch_index"
        case batchCount = "batch_count"
        case globalStep = "global_step"
        case steps, loss, accuracy, count
        case learningRate = "learning_rate"
        case gradientNorm = "gradient_norm"
        case skippedSteps = "skipped_steps"
        case seconds
    }

    /// The position of the last step in epochs (`epoch + (batchIndex + 1) / batchCount`), when the
    /// batch count is known.
    public var epochPosition: Double? {
        batchCount.map { Double(epoch) + Double(batchIndex + 1) / Double(max($0, 1)) }
    }

    /// Summarises `reports` (non-empty, in order) at `date`.
    init(_ reports: [StepReport], date: Date) {
        precondition(!reports.isEmpty, "StepLogRecord: no steps to summarise")
        let last = reports[reports.count - 1]
        let count = reports.reduce(0) { $0 + $1.count }
        let n = Double(max(count, 1))
        time = LogTime.string(date)
        timestamp = date.timeIntervalSince1970
        epoch = last.epoch
        batchIndex = last.batchIndex
        batchCount = last.batchCount
        globalStep = last.globalStep
        steps = reports.count
        loss = Float(reports.reduce(0.0) { $0 + Double($1.loss) * Double($1.count) } / n)
        accuracy = Float(Double(reports.reduce(0) { $0 + $1.correct }) / n)
        self.count = count
        learningRate = last.learningRate
        gradientNorm = last.gradientNorm
        skippedSteps = reports.filter(\.skipped).count
        seconds = reports.reduce(0.0) { $0 + $1.seconds }
    }
}
