import Foundation

/// Step decay (PyTorch `StepLR`, counted in optimizer steps):
/// `lr(s) = baseLearningRate · gamma^⌊s / stepSize⌋`.
public struct StepDecaySchedule: LearningRateSchedule, Equatable {
    /// The rate before the first decay.
    public var baseLearningRate: Double
    /// The number of optimizer steps between decays (multiply epochs by steps per epoch).
    public var stepSize: Int
    /// The factor applied at each decay.
    public var gamma: Double

    /// Creates a step-decay schedule; `stepSize` must be positive.
    public init(baseLearningRate: Double, stepSize: Int, gamma: Double = 0.1) {
        precondition(baseLearningRate >= 0 && gamma >= 0, "StepDecaySchedule: negative rate or gamma")
        precondition(stepSize > 0, "StepDecaySchedule: stepSize must be positive, got \(stepSize)")
        self.baseLearningRate = baseLearningRate
        self.stepSize = stepSize
        self.gamma = gamma
    }

    /// `baseLearningRate · gamma^⌊step / stepSize⌋`.
    public func learningRate(atStep step: Int) -> Double {
        precondition(step >= 0, "StepDecaySchedule: negative step \(step)")
        return baseLearningRate * pow(gamma, Double(step / stepSize))
    }
}
