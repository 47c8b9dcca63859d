/// Where a training run is: saved in checkpoints so a resumed run continues exactly.
public struct TrainingProgress: Sendable, Codable, Equatable {
    /// The epoch in progress or next to run (0-based).
    public var epoch: Int = 0
    /// Batches of `epoch` already trained (non-zero only for a checkpoint written mid-epoch).
    public var batchInEpoch: Int = 0
    /// Batches trained since the start; drives the learning-rate schedule.
    public var globalStep: Int = 0
    /// The best validation top-1 accuracy so far, and the epoch that reached it.
    public var bestTop1: Float?
    /// The epoch of ``bestTop1``.
    public var bestEpoch: Int?

    /// Creates the progress of a run that has not started.
    public init() {}
}
