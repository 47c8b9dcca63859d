import BiRealNet
import BNN
import BNNInference
import Foundation
import Testing

/// Export → write → read → engine logits against the float model's evaluation-mode logits.
@Suite("Packed engine equals the float model")
struct ExportEquivalenceTests {
    /// Runs the whole round trip and checks logits and the absence of zero activations.
    private func check(_ configuration: BiRealNetConfiguration, height: Int, width: Int, batch: Int = 2,
                       seed: UInt64) throws {
        let model = InferenceTestSupport.model(configuration, seed: seed)
        let exported = try BiRealNetExport.export(model, inputHeight: height, inputWidth: width)
        #expect(exported.zeroWeights == 0)
        let url = InferenceTestSupport.temporaryURL("model.bnnpack")
        defer { try? FileManager.default.removeItem(at: url) }
        try exported.model.write(to: url)
        let engine = try InferenceEngine(contentsOf: url)
        #expect(engine.model == exported.model)

        let images = InferenceTestSupport.images(batch: batch, height: height, width: width, seed: seed &+ 7)
        let expected = model.forward(images, mode: .evaluation)
        var profile = InferenceProfile()
        let logits = try engine.logits(for: images, profile: &profile)
        #expect(logits.shape == [batch, configuration.classes])
        #expect(profile.zeroActivations == 0)
        let error = InferenceTestSupport.relativeError(logits, expected)
        #expect(error < 1e-4, "relative error \(error)")
        // Not a degenerate network: the images give different logits.
        let k = configuration.classes
        #expect(Array(logits.scalars[0..<k]) != Array(logits.scalars[k..<2 * k]))
        // A second run reuses the buffers and must give the same bits.
        #expect(try engine.logits(for: images) == logits)
    }

    @Test("Bi-Real Net 18, reference variant, ImageNet stem, odd sizes and partial channel words")
    func birealnet18Reference() throws {
        try check(.birealnet18(classes: 7, widths: [12, 20, 36, 72]), height: 37, width: 29, seed: 11)
    }

    @Test("Bi-Real Net 34, reference variant, ImageNet stem")
    func birealnet34Reference() throws {
        try check(.birealnet34(classes: 5, widths: [16, 24, 64, 80]), height: 32, width: 40, seed: 12)
    }

    @Test("Bi-Real Net 18, paper variant (no clamp after the add, no head BatchNorm)")
    func birealnet18Paper() throws {
        try check(.birealnet18(classes: 6, variant: .paper, widths: [8, 16, 72, 130]), height: 30, width: 33, seed: 13)
    }

    @Test("Bi-Real Net 34, paper variant, small stem")
    func birealnet34PaperSmallStem() throws {
        try check(.birealnet34(classes: 4, stem: .small, variant: .paper, widths: [8, 16, 24, 40]), height: 9, width: 12,
                  batch: 3, seed: 14)
    }

    @Test("Feature maps down to 1×1: every tap but the centre falls into the padding")
    func tinyFeatureMaps() throws {
        try check(.birealnet18(classes: 3, stem: .small, widths: [8, 16, 24, 72]), height: 3, width: 5, seed: 15)
        try check(.birealnet18(classes: 3, widths: [8, 16, 24, 32]), height: 1, width: 2, seed: 16)
    }

    @Test("Batch 1 and a larger batch give the same logits per image")
    func batchIndependence() throws {
        let model = InferenceTestSupport.model(.birealnet18(classes: 4, widths: [8, 16, 24, 32]), seed: 17)
        let engine = InferenceEngine(model: try BiRealNetExport.export(model, inputHeight: 16, inputWidth: 16).model)
        let images = InferenceTestSupport.images(batch: 3, height: 16, width: 16, seed: 18)
        let all = try engine.logits(for: images)
        let second = Tensor(shape: [1, 16, 16, 3], scalars: Array(images.scalars[768..<1536]))
        #expect(try engine.logits(for: second).scalars == Array(all.scalars[4..<8]))
    }
}
