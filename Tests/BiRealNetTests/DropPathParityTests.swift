import BiRealNet
import BNN
import BNNTestSupport
import Testing

/// Drop path against the PyTorch reference with the same per-sample masks on both sides
/// (`tools/reference/make_droppath_fixture.py`): the reduced reference model of ``ParityTests`` at
/// `drop_path_rate` 0.2, one training forward and backward pass, under ``ParityTests``' tolerances.
@Suite struct DropPathParityTests {
    /// The reduced model at rate 0.2 with the fixture's masks injected into every drop path.
    static func model(masks: Tensor) throws -> BiRealNet {
        var configuration = BiRealNetConfiguration.birealnet18(classes: 10, stem: .small, variant: .reference, widths: [8, 16, 32, 64])
        configuration.dropPathRate = 0.2
        let model = BiRealNet(configuration)
        try Checkpoint(file: try ParityTests.fixture("birealnet_small_reference")).load(into: model, strict: false)
        let blocks = model.stages.flatMap(\.layers).compactMap { $0.layer as? Residual }
        let batch = masks.shape[1]
        #expect(blocks.count == masks.shape[0] && blocks.first?.dropPath == nil)
        for (i, block) in blocks.enumerated().dropFirst() {
            block.dropPath?.fixedMasks = Array(masks.scalars[i * batch ..< (i + 1) * batch])
        }
        return model
    }

    @Test func fixedMasksMatchPyTorch() throws {
        let reference = try ParityTests.fixture("birealnet_small_reference")
        let file = try ParityTests.fixture("birealnet_small_droppath")
        let (x, labels) = try ParityTests.input(reference)
        let masks = try file.tensor("masks")
        #expect(masks.scalars.contains(0), "the fixture drops some branches")
        let model = try Self.model(masks: masks)
        let logits = model.forward(x, mode: .training)
        let expectedLogits = try file.tensor("train_logits")
        #expect(GradientCheck.maxRelativeError(logits, expectedLogits) <= 1e-4)
        // The masks matter: the logits without drop path are far from the fixture's.
        #expect(GradientCheck.maxRelativeError(logits, try reference.tensor("train_logits")) > 1e-2)
        let (loss, gradient) = SoftmaxCrossEntropy()(logits, labels: labels)
        let expectedLoss = try file.tensor("loss").scalars[0]
        #expect(abs(loss - expectedLoss) <= 1e-4 * max(1, abs(expectedLoss)))

        model.zeroGradients()
        _ = model.backward(gradient)
        let parameters = Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.name, $0.parameter) })
        let names = file.tensorNames.filter { $0.hasPrefix("grad.") }
        #expect(names.count == 9)
        for name in names {
            let parameter = try #require(parameters[String(name.dropFirst(5))], "\(name) not in the model")
            let expected = try file.tensor(name)
            let scale = expected.scalars.reduce(0) { max($0, abs($1)) }
            let difference = ParityTests.maxAbsDifference(ParityTests.diskGradient(parameter), expected)
            #expect(difference <= 1e-4 * scale + 1e-6, "\(name): max |Δ| \(difference), max |g| \(scale)")
        }
    }
}
