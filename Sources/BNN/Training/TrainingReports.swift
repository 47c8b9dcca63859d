/// One labelled batch: N×H×W×C images with a class index per image, and optional N×classes soft
/// targets (mixup/cutmix); when soft targets are present the loss uses them instead of the labels.
public struct LabeledBatch: Sendable {
    /// The images, N×H×W×C.
    public var images: Tensor
    /// The class index of each image (for accuracy; the dominant class when mixed).
    public var labels: [Int]
    /// N×classes target distributions, or `nil` for one-hot labels.
    public var softTargets: Tensor?

    /// Creates a batch.
    public init(images: Tensor, labels: [Int], softTargets: Tensor? = nil) {
        precondition(images.shape.first == labels.count, "LabeledBatch: \(labels.count) labels for images \(images.shape)")
        self.images = images
        self.labels = labels
        self.softTargets = softTargets
    }
}

/// What one training step did.
public struct StepReport: Sendable, Codable, Equatable {
    /// The epoch (0-based) and the step's index within it.
    public var epoch: Int
    /// Index of the batch within the epoch (0-based).
    public var batchIndex: Int
    /// Batches in the epoch, when known.
    public var batchCount: Int?
    /// Global step count after this step (batches trained since the start of training).
    public var globalStep: Int
    /// Mean loss of the batch (unscaled).
    public var loss: Float
    /// Images whose label was the top-1 prediction.
    public var correct: Int
    /// Images in the batch.
    public var count: Int
    /// The learning rate used.
    public var learningRate: Double
    /// The global gradient norm before clipping, when clipping is on.
    public var gradientNorm: Float?
    /// Whether the optimizer step was skipped because of non-finite gradients (loss scaling).
    public var skipped: Bool
    /// Seconds spent on the step (forward, backward, update), excluding data loading.
    public var seconds: Double
}

/// Metrics of a pass over validation data.
public struct EvaluationReport: Sendable, Codable, Equatable {
    /// Mean loss over all images.
    public var loss: Float
    /// Top-1 accuracy in [0, 1].
    public var top1: Float
    /// Top-5 accuracy in [0, 1] (top-k for k = min(5, classes)).
    public var top5: Float
    /// Images evaluated.
    public var count: Int
    /// Images per second.
    public var imagesPerSecond: Double

    /// Creates a report (for callbacks fed by something other than a ``Trainer``, and their tests).
    public init(loss: Float, top1: Float, top5: Float, count: Int, imagesPerSecond: Double) {
        self.loss = loss
        self.top1 = top1
        self.top5 = top5
        self.count = count
        self.imagesPerSecond = imagesPerSecond
    }
}

/// Metrics of one training epoch and the validation after it.
public struct EpochReport: Sendable, Codable, Equatable {
    /// The epoch (0-based).
    public var epoch: Int
    /// Mean training loss over the epoch's images.
    public var loss: Float
    /// Training top-1 accuracy in [0, 1].
    public var accuracy: Float
    /// Images trained on.
    public var count: Int
    /// Optimizer steps skipped by loss scaling.
    public var skippedSteps: Int
    /// The learning rate at the end of the epoch.
    public var learningRate: Double
    /// Training images per second (wall clock, data loading included).
    public var imagesPerSecond: Double
    /// Wall-clock seconds of the epoch (training and validation).
    public var seconds: Double
    /// Validation metrics, when validation data was given.
    public var validation: EvaluationReport?
    /// Whether the epoch ended early because a stop was requested.
    public var interrupted: Bool
    /// Why the run was stopped as diverged (``DivergenceWatcher``), or `nil`; a diverged epoch has no
    /// validation and does not advance ``Trainer/progress``.
    public var divergence: Divergence? = nil

    /// Creates a report (for callbacks fed by something other than a ``Trainer``, and their tests).
    public init(epoch: Int, loss: Float, accuracy: Float, count: Int, skippedSteps: Int, learningRate: Double,
                imagesPerSecond: Double, seconds: Double, validation: EvaluationReport?, interrupted: Bool,
                divergence: Divergence? = nil) {
        self.epoch = epoch
        self.loss = loss
        self.accuracy = accuracy
        self.count = count
        self.skippedSteps = skippedSteps
        self.learningRate = learningRate
        self.imagesPerSecond = imagesPerSecond
        self.seconds = seconds
        self.validation = validation
        self.interrupted = interrupted
        self.divergence = divergence
    }
}

/// Receives the events of a ``Trainer`` — progress displays, metric logs, charts and checkpoint
/// writers are callbacks, not edits of the loop. Every method has an empty default.
public protocol TrainingCallback: AnyObject {
    /// Before the first batch of `epoch`; `batchCount` when known.
    func epochWillStart(_ trainer: Trainer, epoch: Int, batchCount: Int?)
    /// After every training step.
    func batchDidFinish(_ trainer: Trainer, report: StepReport)
    /// After an epoch and its validation.
    func epochDidFinish(_ trainer: Trainer, report: EpochReport)
}

extension TrainingCallback {
    /// Does nothing.
    public func epochWillStart(_ trainer: Trainer, epoch: Int, batchCount: Int?) {}
    /// Does nothing.
    public func batchDidFinish(_ trainer: Trainer, report: StepReport) {}
    /// Does nothing.
    public func epochDidFinish(_ trainer: Trainer, report: EpochReport) {}
}
