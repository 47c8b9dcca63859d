/// Where a training run is: saved in checkpoints so a resumed run continues exactly.
public struct TrainingProgress: Sendable, Codable, Equatable {
    /// The training metrics of the batches of ``epoch`` done so far, so that an epoch resumed
    /// mid-way (even at its last batch) reports the whole epoch, not only the batches after the resume.
    public struct EpochTotals: Sendable, Codable, Equatable {
        /// Sum over the images of the batch loss (batch mean × batch size).
        public var lossSum: Double = 0
        /// Images whose label was the top-1 prediction.
        public var correct: Int = 0
        /// Images trained on.
        public var count: Int = 0
        /// Optimizer steps skipped by loss scaling.
        public var skippedSteps: Int = 0

        /// Totals of no batch.
        public init() {}
    }

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
    /// The metrics of the ``batchInEpoch`` batches of ``epoch`` already trained.
    public var epochTotals = EpochTotals()

    /// Creates the progress of a run that has not started.
    public init() {}

    private enum CodingKeys: String, CodingKey {
        case epoch, batchInEpoch, globalStep, bestTop1, bestEpoch, epochTotals
    }

    /// Decodes progress; checkpoints written before ``epochTotals`` existed decode with empty totals.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        epoch = try container.decode(Int.self, forKey: .epoch)
        batchInEpoch = try container.decode(Int.self, forKey: .batchInEpoch)
        globalStep = try container.decode(Int.self, forKey: .globalStep)
        bestTop1 = try container.decodeIfPresent(Float.self, forKey: .bestTop1)
        bestEpoch = try container.decodeIfPresent(Int.self, forKey: .bestEpoch)
        epochTotals = try container.decodeIfPresent(EpochTotals.self, forKey: .epochTotals) ?? EpochTotals()
    }
}
