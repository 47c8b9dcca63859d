import BNN
import BNNTestSupport
import Foundation
import Testing

/// Stochastic depth on residual bodies: the identity in evaluation, `body / keep` or nothing per sample
/// in training, and the backward pass through the same masks.
@Suite struct DropPathTests {
    static func block(rate: Double) -> Residual {
        let block = Initializer.withSeed(5) { Residual(body: Linear(inputFeatures: 3, outputFeatures: 3)) }
        block.dropPath = DropPath(rate: rate)
        return block
    }

    @Test func fixedMasksScaleOrDropTheBody() {
        let input = LayerGradientTests.randomInput([3, 3], seed: 4)
        let plain = Initializer.withSeed(5) { Linear(inputFeatures: 3, outputFeatures: 3) }
        let body = plain.forward(input, mode: .evaluation)
        let block = Self.block(rate: 0.25)
        #expect(block.forward(input, mode: .evaluation).scalars == (body + input).scalars)
        block.dropPath?.fixedMasks = [1, 0, 1]
        let out = block.forward(input, mode: .training)
        for i in 0..<3 {
            for j in 0..<3 {
                let expected = (i == 1 ? 0 : body[i, j] / 0.75) + input[i, j]
                #expect(abs(out[i, j] - expected) < 1e-5)
            }
        }
    }

    @Test func gradientsFollowTheMasks() {
        let block = Self.block(rate: 0.4)
        block.dropPath?.fixedMasks = [0, 1, 1, 0]
        LayerGradientTests.expectSmall(GradientCheck.check(block, input: LayerGradientTests.randomInput([4, 3])))
    }

    @Test func drawnMasksKeepAboutOneMinusRate() {
        let block = Self.block(rate: 0.3)
        let input = Tensor(zeros: [1000, 3])
        let out = block.forward(input, mode: .training)
        // With zero input the body's output is its bias; a dropped sample is exactly 0.
        let dropped = (0..<1000).filter { out[$0, 0] == 0 && out[$0, 1] == 0 }.count
        #expect(dropped > 240 && dropped < 360, "\(dropped) of 1000 dropped at rate 0.3")
        #expect(block.forward(input, mode: .evaluation).scalars.allSatisfy { $0 != 0 })
    }
}

/// A resumed run draws the same drop-path masks as an uninterrupted one: the generators travel in
/// the training checkpoint.
@Suite struct DropPathResumeTests {
    /// With `inlined`, the block's names are inlined into the sequence's (as in ReActNet-A), so it has
    /// no module path of its own.
    static func makeTrainer(seed: UInt64, inlined: Bool = false) -> (Trainer, Residual) {
        let (model, block) = Initializer.withSeed(seed) {
            let block = Residual(body: Linear(inputFeatures: 3, outputFeatures: 3))
            block.dropPath = DropPath(rate: 0.5)
            let head = Linear(inputFeatures: 3, outputFeatures: 2)
            return (inlined ? Sequential(named: [("", block), ("head", head)]) : Sequential { block; head }, block)
        }
        let trainer = Trainer(model: model, optimizer: Adam(ParameterGroups(model.namedParameters()), learningRate: 1e-2),
                              schedule: ConstantSchedule(learningRate: 1e-2))
        return (trainer, block)
    }

    static func batch(_ i: Int) -> LabeledBatch {
        var g = SeededGenerator(seed: 300 + UInt64(i))
        return LabeledBatch(images: Tensor(randomNormal: [16, 3], generator: &g), labels: (0..<16).map { ($0 + i) % 2 })
    }

    @Test(arguments: [false, true])
    func checkpointCarriesTheMaskGenerator(inlined: Bool) throws {
        let (uninterrupted, reference) = Self.makeTrainer(seed: 8, inlined: inlined)
        uninterrupted.runEpoch(training: (0..<4).map(Self.batch), validation: [LabeledBatch]?.none)

        let (first, _) = Self.makeTrainer(seed: 8, inlined: inlined)
        first.runEpoch(training: (0..<2).map(Self.batch), validation: [LabeledBatch]?.none)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bnn-droppath-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try first.saveCheckpoint(to: url)

        // Another seed: without the saved generator the resumed run would draw other masks.
        let (resumed, block) = Self.makeTrainer(seed: 9, inlined: inlined)
        #expect(block.dropPath?.generator != reference.dropPath?.generator)
        try resumed.restore(from: url)
        resumed.runEpoch(training: (2..<4).map(Self.batch), validation: [LabeledBatch]?.none)
        #expect(block.dropPath?.generator == reference.dropPath?.generator)
        for ((name, a), (_, b)) in zip(uninterrupted.model.namedParameters(), resumed.model.namedParameters()) {
            #expect(a.value == b.value, "\(name) differs after resume")
        }
    }

    @Test func aModelWithoutTheFilesDropPathIsRefusedByName() throws {
        let (first, _) = Self.makeTrainer(seed: 8)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bnn-droppath-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try first.saveCheckpoint(to: url)
        let (other, block) = Self.makeTrainer(seed: 8)
        block.dropPath = nil
        #expect {
            try other.restore(from: url)
        } throws: { "\($0)".contains("drop path '0' is in the file but not the model") }
    }
}
