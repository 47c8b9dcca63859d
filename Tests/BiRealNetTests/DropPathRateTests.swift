import BNN
import Testing
@testable import BiRealNet

@Suite struct DropPathRateTests {
    /// Rates grow linearly over the blocks from 0 to `drop_path_rate` (timm's ResNet), and at rate 0 no
    /// block has a drop path (the parity fixtures cover that model), and the weights do not depend on the rate.
    @Test func ratesAreLinearInDepthAndWeightsUnchanged() {
        let configuration = BiRealNetConfiguration(blocksPerStage: [2, 2, 1, 1], widths: [4, 8, 8, 8], classes: 3,
                                                   stem: .small, dropPathRate: 0.2)
        let model = Initializer.withSeed(1) { BiRealNet(configuration) }
        let blocks = model.stages.flatMap { $0.children.compactMap { $0.module as? Residual } }
        #expect(blocks.count == 6)
        let rates = blocks.map { $0.dropPath?.rate ?? 0 }
        for (i, rate) in rates.enumerated() { #expect(abs(rate - 0.2 * Double(i) / 5) < 1e-12) }
        #expect(blocks[0].dropPath == nil)
        var plain = configuration
        plain.dropPathRate = 0
        let reference = Initializer.withSeed(1) { BiRealNet(plain) }
        let referenceBlocks = reference.stages.flatMap { $0.children.compactMap { $0.module as? Residual } }
        let withDropPath = referenceBlocks.filter { $0.dropPath != nil }
        #expect(withDropPath.isEmpty)
        let a = model.namedParameters(), b = reference.namedParameters()
        #expect(a.count == b.count && zip(a, b).allSatisfy { $0.parameter.value.scalars == $1.parameter.value.scalars })
    }
}
