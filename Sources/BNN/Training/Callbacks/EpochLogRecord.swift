import Foundation

/// One line of a ``MetricsLog`` for an epoch: every field of ``EpochReport`` flattened (the
/// validation fields prefixed `validation_`), with the wall-clock time, the global step and whether
/// the epoch reached the best validation top-1 so far.
///
/// In JSON the keys are snake_case, sorted, and `"type"` is `"epoch"`:
/// ```json
/// {"accuracy":0.08,"best":true,"count":640512,"epoch":0,"global_step":5004,"images_per_second":1234.5,
///  "interrupted":false,"learning_rate":0.001,"loss":5.1,"seconds":600.2,"skipped_steps":0,
///  "time":"2026-11-29T01:23:45.678Z","timestamp":1795919025.678,"type":"epoch","validation_count":50000,
///  "validation_images_per_second":3456.7,"validation_loss":4.2,"validation_top1":0.12,"validation_top5":0.31}
/// ```
/// The validation keys are absent when the epoch had no validation. Non-finite numbers (a diverged
/// loss) are written as the strings `"NaN"`, `"Infinity"`, `"-Infinity"`.
public struct EpochLogRecord: Codable, Equatable, Sendable {
    /// Always `"epoch"`.
    public var type = "epoch"
    /// When the epoch ended, ISO 8601 in UTC with milliseconds.
    public var time: String
    /// When the epoch ended, in seconds since 1970-01-01 UTC.
    public var timestamp: Double
    /// ``EpochReport/epoch`` (0-based).
    public var epoch: Int
    /// ``TrainingProgress/globalStep`` after the epoch.
    public var globalStep: Int
    /// ``EpochReport/loss``.
    public var loss: Float
    /// ``EpochReport/accuracy``, in [0, 1].
    public var accuracy: Float
    /// ``EpochReport/count``.
    public var count: Int
    /// ``EpochReport/skippedSteps``.
    public var skippedSteps: Int
    /// ``EpochReport/learningRate``.
    public var learningRate: Double
    /// ``EpochReport/imagesPerSecond``.
    public var imagesPerSecond: Double
    /// ``EpochReport/seconds``.
    public var seconds: Double
    /// ``EpochReport/interrupted``.
    public var interrupted: Bool
    /// Whether this epoch has the best validation top-1 so far (``TrainingProgress/bestEpoch``).
    public var best: Bool
    /// ``EvaluationReport/loss`` of the validation, if any.
    public var validationLoss: Float?
    /// ``EvaluationReport/top1``, in [0, 1].
    public var validationTop1: Float?
    /// ``EvaluationReport/top5``, in [0, 1].
    public var validationTop5: Float?
    /// ``EvaluationReport/count``.
    public var validationCount: Int?
    /// ``EvaluationReport/imagesPerSecond``.
    public var validationImagesPerSecond: Double?

    enum CodingKeys: String, CodingKey {
        case type, time, timestamp, epoch
        case globalStep = "global_step"
        case loss, accuracy, count
        case skippedSteps = "skipped_steps"
        case learningRate = "learning_rate"
        case imagesPerSecond = "images_per_second"
        case seconds, interrupted, best
        case validationLoss = "validation_loss"
        case validationTop1 = "validation_top1"
        case validationTop5 = "validation_top5"
        case validationCount = "validation_count"
        case validationImagesPerSecond = "validation_images_per_second"
    }

    /// Flattens `report`, observed by `trainer` at `date`.
    public init(_ report: EpochReport, trainer: Trainer, date: Date = Date()) {
        self.init(report, progress: trainer.progress, date: date)
    }

    /// Flattens `report`, with `progress` the trainer's progress right after the epoch.
    public init(_ report: EpochReport, progress: TrainingProgress, date: Date = Date()) {
        time = LogTime.string(date)
        timestamp = date.timeIntervalSince1970
        epoch = report.epoch
        globalStep = progress.globalStep
        loss = report.loss
        accuracy = report.accuracy
        count = report.count
        skippedSteps = report.skippedSteps
        learningRate = report.learningRate
        imagesPerSecond = report.imagesPerSecond
        seconds = report.seconds
        interrupted = report.interrupted
        best = !report.interrupted && report.validation != nil && progress.bestEpoch == report.epoch
        validationLoss = report.validation?.loss
        validationTop1 = report.validation?.top1
        validationTop5 = report.validation?.top5
        validationCount = report.validation?.count
        validationImagesPerSecond = report.validation?.imagesPerSecond
    }
}
