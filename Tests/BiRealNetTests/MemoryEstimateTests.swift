import BiRealNet
import BNN
import Testing

/// The training-memory estimate the trainer checks before building a model (issue 13, item 8).
@Suite struct MemoryEstimateTests {
    @Test func estimateMatchesTheReferenceCountAndMeasuredPeaks() {
        let birealnet34 = BiRealNetConfiguration.birealnet34()
        let batch16 = birealnet34.trainingMemoryEstimate(batchSize: 16, imageSize: 224)
        #expect(batch16.parameterCount == 21_816_744)   // trainable + BatchNorm statistics, as the reference
        // Peaks measured by bnn-bench training (README): 1.5 GiB at batch 16, 2.6 GiB at batch 32. The
        // estimate stays a little below them, so only what cannot fit is refused.
        let gib = 1024.0 * 1024 * 1024
        #expect((0.7...1.05).contains(batch16.totalBytes / (1.5 * gib)))
        let batch32 = birealnet34.trainingMemoryEstimate(batchSize: 32, imageSize: 224)
        #expect((0.7...1.05).contains(batch32.totalBytes / (2.6 * gib)))
    }

    @Test func absurdArchitecturesGiveHugeEstimatesWithoutOverflow() {
        var configuration = BiRealNetConfiguration.birealnet34()
        configuration.blocksPerStage = [100_000, 2, 2, 2]
        #expect(configuration.trainingMemoryEstimate(batchSize: 128, imageSize: 224).totalBytes > 1e12)
        configuration.blocksPerStage = [1_000_000, 1_000_000, 1_000_000, 1_000_000]
        configuration.widths = [1_000_000, 1_000_000, 1_000_000, 1_000_000]
        let estimate = configuration.trainingMemoryEstimate(batchSize: 65_536, imageSize: 4096)
        #expect(estimate.totalBytes.isFinite && estimate.totalBytes > 1e20)
    }
}
