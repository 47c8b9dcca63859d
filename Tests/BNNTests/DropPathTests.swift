import BNN
import BNNTestSupport
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
