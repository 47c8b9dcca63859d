/// The `linear_lr` policy of the MindSpore Bi-Real Net recipe (`birealnet34.yaml`): linear warm-up,
/// linear decay, then a cool-down at the floor, evaluated per optimizer step.
///
/// With `s` the step, `e = s / stepsPerEpoch` the fractional epoch (epoch index plus the fraction
/// of the epoch done, the convention of the MindSpore image-classification schedulers),
/// `W = warmupEpochs`, `E = epochs`, `C = cooldownEpochs`:
/// ```
/// e < W:          lr = warmup + (base − warmup) · e / W
/// W ≤ e < E:      lr = base − (base − min) · (e − W) / (E − W)
/// E ≤ e:          lr = min          (the C cool-down epochs, and any step past them)
/// ```
/// The run lasts ``totalSteps`` `= (E + C) · stepsPerEpoch` steps. With the recipe (base 1e-3,
/// min 1e-6, W = 0, E = 300, C = 10) the rate starts at 1e-3, falls linearly to 1e-6 at the start
/// of epoch 300 and stays there for epochs 300…309.
public struct LinearDecaySchedule: LearningRateSchedule, Equatable {
    /// The peak rate (`base_lr`), reached at the end of the warm-up.
    public var baseLearningRate: Double
    /// The rate at the start of the warm-up (`warmup_lr`).
    public var warmupLearningRate: Double
    /// The floor (`min_lr`) reached at the end of epoch `epochs − 1` and held in the cool-down.
    public var minLearningRate: Double
    /// The warm-up length in epochs (`warmup_length`).
    public var warmupEpochs: Int
    /// The epochs of warm-up plus decay (`epochs`).
    public var epochs: Int
    /// The epochs held at the floor after the decay (`cooldown_epochs`).
    public var cooldownEpochs: Int
    /// Optimizer steps per epoch.
    public var stepsPerEpoch: Int

    /// Creates the schedule; requires `0 <= warmupEpochs <= epochs`, `cooldownEpochs >= 0`,
    /// `stepsPerEpoch > 0`.
    public init(baseLearningRate: Double, warmupLearningRate: Double = 0, minLearningRate: Double = 0,
                warmupEpochs: Int = 0, epochs: Int, cooldownEpochs: Int = 0, stepsPerEpoch: Int) {
        precondition(warmupEpochs >= 0 && warmupEpochs <= epochs,
                     "LinearDecaySchedule: need 0 <= warmupEpochs (\(warmupEpochs)) <= epochs (\(epochs))")
        precondition(cooldownEpochs >= 0 && stepsPerEpoch > 0,
                     "LinearDecaySchedule: negative cooldownEpochs or non-positive stepsPerEpoch")
        precondition(baseLearningRate >= 0 && warmupLearningRate >= 0 && minLearningRate >= 0,
                     "LinearDecaySchedule: negative learning rate")
        self.baseLearningRate = baseLearningRate
        self.warmupLearningRate = warmupLearningRate
        self.minLearningRate = minLearningRate
        self.warmupEpochs = warmupEpochs
        self.epochs = epochs
        self.cooldownEpochs = cooldownEpochs
        self.stepsPerEpoch = stepsPerEpoch
    }

    /// The number of steps of the whole run, cool-down included.
    public var totalSteps: Int { (epochs + cooldownEpochs) * stepsPerEpoch }

    /// The rate at `step` (see the type's formula).
    public func learningRate(atStep step: Int) -> Double {
        precondition(step >= 0, "LinearDecaySchedule: negative step \(step)")
        let epoch = Double(step) / Double(stepsPerEpoch)
        let warmup = Double(warmupEpochs)
        if epoch < warmup {
            return warmupLearningRate + (baseLearningRate - warmupLearningRate) * epoch / warmup
        }
        if epoch < Double(epochs) {
            let fraction = (epoch - warmup) / Double(epochs - warmupEpochs)
            return baseLearningRate - (baseLearningRate - minLearningRate) * fraction
        }
        return minLearningRate
    }
}
