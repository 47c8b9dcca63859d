/// The same learning rate at every step.
public struct ConstantSchedule: LearningRateSchedule, Equatable {
    /// The learning rate.
    public var learningRate: Double

    /// Creates a constant schedule.
    public init(learningRate: Double) {
        precondition(learningRate >= 0, "ConstantSchedule: negative learning rate")
        self.learningRate = learningRate
    }

    /// ``learningRate``, whatever the step.
    public func learningRate(atStep step: Int) -> Double {
        precondition(step >= 0, "ConstantSchedule: negative step \(step)")
        return learningRate
    }
}
