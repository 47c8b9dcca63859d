/// A learning rate as a pure function of the optimizer step.
///
/// `step` is the 0-based index of the update about to be made — ``Optimizer/stepCount`` before
/// calling ``Optimizer/step()`` — so a resumed run recomputes the same rate from the restored step
/// count and no scheduler state needs saving:
///
/// ```swift
/// optimizer.learningRate = schedule.learningRate(atStep: optimizer.stepCount)
/// optimizer.step()
/// ```
public protocol LearningRateSchedule: Sendable {
    /// The learning rate for the update with 0-based index `step` (`step >= 0`).
    func learningRate(atStep step: Int) -> Double
}
