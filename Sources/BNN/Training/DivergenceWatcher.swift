/// Why a training run was stopped as diverged: what was seen, and at which step.
public struct Divergence: Sendable, Codable, Equatable, CustomStringConvertible {
    /// The epoch (0-based) in which divergence was detected.
    public var epoch: Int
    /// ``TrainingProgress/globalStep`` when it was detected.
    public var globalStep: Int
    /// What was seen, e.g. "the loss was not finite for 3 consecutive steps".
    public var reason: String

    /// Creates a record.
    public init(epoch: Int, globalStep: Int, reason: String) {
        self.epoch = epoch
        self.globalStep = globalStep
        self.reason = reason
    }

    /// "training diverged in epoch E (step S): reason".
    public var description: String { "training diverged in epoch \(epoch + 1) (step \(globalStep)): \(reason)" }
}

/// Notices that a run has diverged, so the ``Trainer`` stops it before a broken model is saved.
///
/// Three signs count, checked by ``Trainer/runEpoch(training:validation:batchCount:firstBatchIndex:)``:
/// - the loss is not finite for ``consecutiveLimit`` consecutive steps;
/// - with dynamic loss scaling, every step of a whole epoch (``StepReport/batchCount`` consecutive
///   steps) was skipped for non-finite gradients;
/// - a parameter or buffer of the model is not finite at the end of an epoch (checked before any
///   callback saves it).
///
/// When one is seen the trainer requests a stop (agreed across replicas like Ctrl-C), evaluates
/// nothing, does not advance ``Trainer/progress`` and reports the ``Divergence`` in
/// ``EpochReport/divergence``; ``CheckpointWriter`` then leaves the last good checkpoints untouched.
public struct DivergenceWatcher: Sendable {
    /// Consecutive steps with a non-finite loss that mean divergence (at least 1).
    public let consecutiveLimit: Int
    private var nonFiniteLosses = 0
    private var skippedSteps = 0

    /// Creates a watcher that stops a run after `consecutiveLimit` consecutive non-finite losses
    /// (3 by default: one bad batch is survivable with loss scaling, three in a row are not).
    public init(consecutiveLimit: Int = 3) {
        precondition(consecutiveLimit >= 1, "DivergenceWatcher: consecutiveLimit must be at least 1")
        self.consecutiveLimit = consecutiveLimit
    }

    /// Takes one step's report; returns the divergence when this step completes one of the signs.
    public mutating func observe(_ step: StepReport) -> Divergence? {
        nonFiniteLosses = step.loss.isFinite ? 0 : nonFiniteLosses + 1
        skippedSteps = step.skipped ? skippedSteps + 1 : 0
        if nonFiniteLosses >= consecutiveLimit {
            return Divergence(epoch: step.epoch, globalStep: step.globalStep,
                              reason: "the loss was not finite (\(step.loss)) for \(nonFiniteLosses) consecutive steps")
        }
        if let steps = step.batchCount, steps > 0, skippedSteps >= steps {
            return Divergence(epoch: step.epoch, globalStep: step.globalStep,
                              reason: "the loss scaler skipped all of the last \(skippedSteps) steps (a whole epoch) "
                                  + "for non-finite gradients")
        }
        return nil
    }

    /// The first parameter or buffer of `module` holding a NaN or an infinity, as a divergence.
    public func checkWeights(of module: any Module, epoch: Int, globalStep: Int) -> Divergence? {
        for (name, parameter) in module.namedParameters() {
            if !parameter.value.isFinite {
                return Divergence(epoch: epoch, globalStep: globalStep, reason: "tensor '\(name)' holds NaN or infinite values")
            }
        }
        return nil
    }
}
