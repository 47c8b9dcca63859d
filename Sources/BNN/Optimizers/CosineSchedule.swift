import Foundation

/// Linear warm-up followed by cosine annealing to a floor, counted in optimizer steps.
///
/// With `W = warmupSteps`, `T = totalSteps`, `s` the step:
/// ```
/// s < W:       lr = warmupStart + (base − warmupStart) · s / W
/// W ≤ s:       p  = min(s − W, T − W) / (T − W)
///              lr = min + (base − min) · (1 + cos(π·p)) / 2
/// ```
/// so the rate reaches `min` at step `T` and stays there.
public struct CosineSchedule: LearningRateSchedule, Equatable {
    /// The peak rate, reached at the end of the warm-up.
    public var baseLearningRate: Double
    /// The floor reached at ``totalSteps``.
    public var minLearningRate: Double
    /// The length of the cosine curve plus the warm-up, in steps.
    public var totalSteps: Int
    /// The number of linear warm-up steps (0 for none).
    public var warmupSteps: Int
    /// The rate at step 0 of the warm-up.
    public var warmupStartLearningRate: Double

    /// Creates a cosine schedule; requires `0 <= warmupSteps < totalSteps`.
    public init(baseLearningRate: Double, minLearningRate: Double = 0, totalSteps: Int,
                warmupSteps: Int = 0, warmupStartLearningRate: Double = 0) {
        precondition(warmupSteps >= 0 && warmupSteps < totalSteps,
                     "CosineSchedule: need 0 <= warmupSteps (\(warmupSteps)) < totalSteps (\(totalSteps))")
        precondition(baseLearningRate >= 0 && minLearningRate >= 0 && warmupStartLearningRate >= 0,
                     "CosineSchedule: negative learning rate")
        self.baseLearningRate = baseLearningRate
        self.minLearningRate = minLearningRate
        self.totalSteps = totalSteps
        self.warmupSteps = warmupSteps
        self.warmupStartLearningRate = warmupStartLearningRate
    }

    /// The rate at `step` (see the type's formula).
    public func learningRate(atStep step: Int) -> Double {
        precondition(step >= 0, "CosineSchedule: negative step \(step)")
        if step < warmupSteps {
            return warmupStartLearningRate
                + (baseLearningRate - warmupStartLearningRate) * Double(step) / Double(warmupSteps)
        }
        let span = Double(totalSteps - warmupSteps)
        let progress = Double(min(step - warmupSteps, totalSteps - warmupSteps)) / span
        return minLearningRate + (baseLearningRate - minLearningRate) * (1 + cos(Double.pi * progress)) / 2
    }
}
