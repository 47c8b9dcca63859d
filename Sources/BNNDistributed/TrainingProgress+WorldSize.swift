import BNN

extension TrainingProgress {
    /// The progress of a run resumed with a different global batch (another number of ranks or
    /// another per-rank batch).
    ///
    /// Every rank reads the same epoch permutation in global order (rank `r` takes positions
    /// `r, r + world, …`), so the images consumed in the epoch so far are `batchInEpoch ×
    /// previousGlobalBatch`; the resumed run continues after the last complete new global batch (a
    /// few images are seen twice when the numbers do not divide). The global step is recomputed from
    /// the epoch and the new `stepsPerEpoch`, so epoch-based learning-rate schedules continue where
    /// they were.
    public func resumed(previousGlobalBatch: Int, globalBatch: Int, stepsPerEpoch: Int) -> TrainingProgress {
        precondition(previousGlobalBatch > 0 && globalBatch > 0 && stepsPerEpoch > 0,
                     "TrainingProgress.resumed: batch sizes and steps per epoch must be positive")
        guard previousGlobalBatch != globalBatch else { return self }
        var progress = self
        progress.batchInEpoch = min(batchInEpoch * previousGlobalBatch / globalBatch, stepsPerEpoch)
        progress.globalStep = epoch * stepsPerEpoch + progress.batchInEpoch
        return progress
    }
}
