import Dispatch
import Foundation

/// The training loop: forward, loss, backward, gradient clipping, optional dynamic loss scaling, the
/// optimizer step with a scheduled learning rate, optional weight averaging, and events for callbacks.
///
/// The loop knows nothing of files or terminals: batches come from any `Sequence` of ``LabeledBatch``,
/// and progress displays, logs and checkpoint writers are ``TrainingCallback``s.
///
/// ```swift
/// let trainer = Trainer(model: model, optimizer: Adam(ParameterGroups(model.namedParameters())),
///                       schedule: ConstantSchedule(learningRate: 1e-3))
/// for epoch in 0..<10 { trainer.runEpoch(training: trainBatches(epoch), validation: valBatches()) }
/// ```
public final class Trainer {
    /// The model being trained.
    public let model: any TensorLayer
    /// The optimizer over the model's trainable parameters.
    public let optimizer: any Optimizer
    /// The learning rate as a function of ``TrainingProgress/globalStep``.
    public var schedule: any LearningRateSchedule
    /// The loss.
    public var loss: SoftmaxCrossEntropy
    /// Knowledge distillation from a frozen teacher; when set, it replaces ``loss`` in training steps.
    public var distillation: DistillationLoss?
    /// Clip the global gradient norm to this value (the reference uses 5); `nil` for no clipping.
    public var maxGradientNorm: Float?
    /// Dynamic loss scaling, as mixed-precision recipes use; `nil` to step directly.
    public let lossScaler: DynamicLossScaler?
    /// An exponential moving average of the weights, updated after every step; `nil` for none.
    public let averagedWeights: ExponentialMovingAverage?
    /// Receivers of the loop's events, called in order.
    public var callbacks: [any TrainingCallback] = []
    /// Where the run is.
    public var progress = TrainingProgress()
    /// Combines the gradients of the replicas of a data-parallel job, or `nil` for one process.
    ///
    /// Called in every step with ``Optimizer/parameters`` after the backward pass and before loss
    /// scaling checks, gradient clipping and the optimizer step; it must replace each gradient by
    /// its mean over all replicas (so every replica takes the same step). With a ``lossScaler`` the
    /// gradients are still scaled when it is called.
    public var gradientReducer: (([Parameter]) -> Void)?
    /// Called in every step right before the backward pass, or `nil`: a data-parallel reducer that
    /// starts sending gradients during the backward pass arms itself here.
    public var backwardWillStart: (() -> Void)?
    /// Agrees on stopping across the replicas of a data-parallel job, or `nil` for one process.
    ///
    /// Called by ``runEpoch(training:validation:batchCount:firstBatchIndex:)`` before every batch and once after the
    /// last with whether a stop was requested in this process; it must return `true` on every replica
    /// when any replica requested a stop (an all-reduce of the flag), so all stop after the same batch.
    public var stopAgreement: ((Bool) -> Bool)?
    /// Agrees on why a data-parallel job stopped, or `nil` for one process.
    ///
    /// Called once on every replica right after ``stopAgreement`` agreed on a stop, with this replica's
    /// ``Divergence`` (or `nil`); it must return the same record on every replica: the divergence of
    /// the lowest rank that saw one, or `nil` when none did. So when one replica stops a diverged run,
    /// all report the divergence, not an interruption.
    public var divergenceAgreement: ((Divergence?) -> Divergence?)?
    /// Stops a diverged run (see ``DivergenceWatcher``); `nil` trains on whatever happens.
    public var divergenceWatcher: DivergenceWatcher? = DivergenceWatcher()

    private let stopFlag = StopFlag()

    /// Creates a trainer.
    public init(model: any TensorLayer, optimizer: any Optimizer, schedule: any LearningRateSchedule,
                loss: SoftmaxCrossEntropy = SoftmaxCrossEntropy(), maxGradientNorm: Float? = nil,
                lossScaler: DynamicLossScaler? = nil, averagedWeights: ExponentialMovingAverage? = nil) {
        self.model = model
        self.optimizer = optimizer
        self.schedule = schedule
        self.loss = loss
        self.maxGradientNorm = maxGradientNorm
        self.lossScaler = lossScaler
        self.averagedWeights = averagedWeights
    }

    /// Asks the loop to stop after the current batch; safe to call from a signal handler's queue or
    /// any thread. ``runEpoch(training:validation:batchCount:firstBatchIndex:)`` then returns an interrupted report.
    public func requestStop() { stopFlag.set() }

    /// Whether a stop was requested.
    public var isStopRequested: Bool { stopFlag.isSet }

    /// Trains on one batch and returns what happened. Does not notify callbacks.
    public func trainStep(_ batch: LabeledBatch) -> StepReport {
        let start = DispatchTime.now()
        let learningRate = schedule.learningRate(atStep: progress.globalStep)
        optimizer.learningRate = learningRate
        model.zeroGradients()
        let logits = model.forward(batch.images, mode: .training)
        let (value, gradient) = distillation.map { $0(logits, batch: batch) }
            ?? batch.softTargets.map { loss(logits, targets: $0) } ?? loss(logits, labels: batch.labels)
        let correct = Accuracy.correctCount(logits, labels: batch.labels)
        var norm: Float?
        var skipped = false
        backwardWillStart?()
        if let lossScaler {
            _ = model.backward(lossScaler.scaled(gradient))
            gradientReducer?(optimizer.parameters)
            switch lossScaler.step(optimizer, maxGradientNorm: maxGradientNorm) {
            case .applied(let gradientNorm): norm = gradientNorm
            case .skipped: skipped = true
            }
        } else {
            _ = model.backward(gradient)
            gradientReducer?(optimizer.parameters)
            norm = maxGradientNorm.map { GradientClipping.clipGlobalNorm(optimizer.parameters, maxNorm: $0) }
            optimizer.step()
        }
        if !skipped { averagedWeights?.update() }
        progress.globalStep += 1
        progress.batchInEpoch += 1
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        return StepReport(epoch: progress.epoch, batchIndex: progress.batchInEpoch - 1, batchCount: nil,
                          globalStep: progress.globalStep, loss: value, correct: correct, count: batch.labels.count,
                          learningRate: learningRate, gradientNorm: norm, skipped: skipped, seconds: seconds)
    }

    /// Evaluates the model (in evaluation mode, with the averaged weights when averaging is on) on
    /// `batches`, using their labels.
    public func evaluate<S: Sequence>(_ batches: S) -> EvaluationReport where S.Element == LabeledBatch {
        let run = { () -> EvaluationReport in
            let start = DispatchTime.now()
            var totalLoss = 0.0, top1 = 0, top5 = 0, count = 0
            let plainLoss = SoftmaxCrossEntropy()
            for batch in batches {
                let logits = self.model.forward(batch.images, mode: .evaluation)
                totalLoss += Double(plainLoss(logits, labels: batch.labels).loss) * Double(batch.labels.count)
                top1 += Accuracy.correctCount(logits, labels: batch.labels, topK: 1)
                top5 += Accuracy.correctCount(logits, labels: batch.labels, topK: min(5, logits.shape[1]))
                count += batch.labels.count
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
            let n = Double(max(count, 1))
            return EvaluationReport(loss: Float(totalLoss / n), top1: Float(Double(top1) / n), top5: Float(Double(top5) / n),
                                    count: count, imagesPerSecond: seconds > 0 ? Double(count) / seconds : 0)
        }
        return averagedWeights.map { $0.withAveragedWeights(run) } ?? run()
    }

    /// Trains one epoch on `training` (skipping the ``TrainingProgress/batchInEpoch`` batches a resumed
    /// run already did), then evaluates on `validation`, notifying the callbacks. Stops early, without
    /// validation, when a stop is requested or the ``divergenceWatcher`` sees divergence (reported in
    /// ``EpochReport/divergence``); otherwise advances ``progress`` to the next epoch and records the
    /// best validation top-1. The report's loss, accuracy and count cover the whole epoch, including
    /// the batches done before a resume (``TrainingProgress/epochTotals``).
    ///
    /// - Parameters:
    ///   - training: the epoch's batches from index `firstBatchIndex` on.
    ///   - validation: batches to evaluate after the epoch, or nil.
    ///   - batchCount: the number of batches of the whole epoch, for progress displays.
    ///   - firstBatchIndex: the index of the first batch `training` yields (0 by default). A loader
    ///     that can start mid-epoch (e.g. `BNNData`'s `DataLoader.epoch(_:startingAt:)`) given
    ///     ``TrainingProgress/batchInEpoch`` spares the decoding of the batches a resumed run already
    ///     did; the trainer drops only `batchInEpoch − firstBatchIndex` batches itself.
    /// - Precondition: `firstBatchIndex` ≤ ``TrainingProgress/batchInEpoch`` (later batches would be
    ///   missed).
    @discardableResult
    public func runEpoch<Train: Sequence, Validation: Sequence>(
        training: Train, validation: Validation?, batchCount: Int? = nil, firstBatchIndex: Int = 0
    ) -> EpochReport where Train.Element == LabeledBatch, Validation.Element == LabeledBatch {
        precondition(firstBatchIndex >= 0 && firstBatchIndex <= progress.batchInEpoch,
                     "Trainer.runEpoch: training starts at batch \(firstBatchIndex), after the resume point \(progress.batchInEpoch)")
        let epoch = progress.epoch
        let start = DispatchTime.now()
        for callback in callbacks { callback.epochWillStart(self, epoch: epoch, batchCount: batchCount) }
        var trainedNow = 0   // images of this call, for the speed; the totals cover the whole epoch
        var interrupted = false
        var divergence: Divergence?
        for batch in training.dropFirst(progress.batchInEpoch - firstBatchIndex) {
            if agreedStop() {
                interrupted = true
                divergence = agreedDivergence(divergence)
                break
            }
            var report = trainStep(batch)
            report.batchCount = batchCount
            if divergence == nil, let diverged = divergenceWatcher?.observe(report) {
                divergence = diverged
                stopFlag.set()   // agreed with the other replicas before the next batch
            }
            progress.epochTotals.lossSum += Double(report.loss) * Double(report.count)
            progress.epochTotals.correct += report.correct
            progress.epochTotals.count += report.count
            if report.skipped { progress.epochTotals.skippedSteps += 1 }
            trainedNow += report.count
            for callback in callbacks { callback.batchDidFinish(self, report: report) }
        }
        if !interrupted && agreedStop() {
            interrupted = true
            divergence = agreedDivergence(divergence)
        }
        if divergence == nil {
            divergence = divergenceWatcher?.checkWeights(of: model, epoch: epoch, globalStep: progress.globalStep)
        }
        let trainSeconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        let validationReport = interrupted || divergence != nil ? nil : validation.map { evaluate($0) }
        let totals = progress.epochTotals
        let n = Double(max(totals.count, 1))
        let report = EpochReport(
            epoch: epoch, loss: Float(totals.lossSum / n), accuracy: Float(Double(totals.correct) / n), count: totals.count,
            skippedSteps: totals.skippedSteps, learningRate: optimizer.learningRate,
            imagesPerSecond: trainSeconds > 0 ? Double(trainedNow) / trainSeconds : 0,
            seconds: Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9,
            validation: validationReport, interrupted: interrupted, divergence: divergence)
        if !interrupted && divergence == nil {
            progress.epoch += 1
            progress.batchInEpoch = 0
            progress.epochTotals = TrainingProgress.EpochTotals()
            if let top1 = validationReport?.top1, top1 > (progress.bestTop1 ?? -1) {
                progress.bestTop1 = top1
                progress.bestEpoch = epoch
            }
        }
        for callback in callbacks { callback.epochDidFinish(self, report: report) }
        return report
    }

    /// This process's divergence, or another replica's, agreed through ``divergenceAgreement``.
    private func agreedDivergence(_ local: Divergence?) -> Divergence? {
        divergenceAgreement.map { $0(local) } ?? local
    }

    /// This process's stop request, agreed with the other replicas through ``stopAgreement``.
    private func agreedStop() -> Bool {
        stopAgreement?(stopFlag.isSet) ?? stopFlag.isSet
    }
}

/// A flag set from any thread and read by the loop.
final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    func set() { lock.lock(); value = true; lock.unlock() }
}
