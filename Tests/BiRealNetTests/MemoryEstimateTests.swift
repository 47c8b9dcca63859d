import BiRealNet
import BNN
import Testing

/// The training-memory estimate the trainer checks before building a model (issue 13, item 8).
@Suite struct MemoryEstimateTests {
    @Test func estimateMatchesTheReferenceCountAndMeasuredPeaks() {
        let birealnet34 = BiRealNetConfiguration.birealnet34()
        let batch16 = birealnet34.trainingMemoryEstimate(batchSize: 16, imageSize: 224)
        #expect(batch16.parameterCount == 21_816_744)   // trainable + BatchNorm statistics, as the reference
        // Peak resident memory measured by bnn-bench training (Performance article, 3 December 2026):
        // 1,129 MiB at batch 16, 1,812 MiB at batch 32. The estimate stays a little below them, so only
        // what cannot fit is refused.
        let mib = 1024.0 * 1024
        #expect((0.8...1.05).contains(batch16.totalBytes / (1129 * mib)))
        let batch32 = birealnet34.trainingMemoryEstimate(batchSize: 32, imageSize: 224)
        #expect((0.8...1.05).contains(batch32.totalBytes / (1812 * mib)))
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
