import BNN
import Testing

/// End-to-end: a tiny binary network must be able to memorise a small batch.
@Suite struct TrainingSmokeTests {
    @Test func tinyBinaryNetworkOverfitsASmallBatch() {
        var g = SeededGenerator(seed: 9)
        let classes = 4
        let images = Tensor(randomNormal: [8, 6, 6, 3], generator: &g)
        let labels = (0..<8).map { $0 % classes }
        let model = Initializer.withSeed(1) { Sequential {
            Conv2D(inputChannels: 3, outputChannels: 16, kernelSize: 3, padding: 1)
            BatchNorm2D(channels: 16)
            HardTanh()
            Residual(body: Sequential(named: [
                ("binary_conv", BinaryConv2D(inputChannels: 16, outputChannels: 16,
                                             inputQuantizer: SignActivation(normalizesVariance: true))),
                ("bn1", BatchNorm2D(channels: 16)),
            ]), post: HardTanh())
            GlobalAvgPool()
            Linear(inputFeatures: 16, outputFeatures: classes)
        } }
        let loss = SoftmaxCrossEntropy()
        var firstLoss: Float = 0, lastLoss: Float = 0
        for step in 0..<200 {
            model.zeroGradients()
            let logits = model.forward(images, mode: .training)
            let (value, gradient) = loss(logits, labels: labels)
            if step == 0 { firstLoss = value }
            lastLoss = value
            _ = model.backward(gradient)
            // Plain gradient descent keeps this test independent of the optimizer module.
            for p in model.trainableParameters { p.value.add(p.gradient, scaledBy: -0.1) }
        }
        let accuracy = Accuracy.topK(model.forward(images, mode: .training), labels: labels)
        #expect(lastLoss < firstLoss / 4, "loss \(firstLoss) → \(lastLoss)")
        #expect(accuracy == 1)
    }

    @Test func summaryCountsParametersByPrecision() {
        let model = Initializer.withSeed(1) { Sequential {
            Conv2D(inputChannels: 3, outputChannels: 8, kernelSize: 3, padding: 1)
            BatchNorm2D(channels: 8)
            BinaryConv2D(inputChannels: 8, outputChannels: 8)
            GlobalAvgPool()
            Linear(inputFeatures: 8, outputFeatures: 2)
        } }
        let summary = ModelSummary(model, inputShape: [1, 4, 4, 3])
        #expect(summary.rows.map(\.path) == ["0", "1", "2", "3", "4"])
        #expect(summary.binaryParameters == 8 * 8 * 9)
        #expect(summary.realParameters == 3 * 8 * 9 + 16 + 8 * 2 + 2)
        #expect(summary.buffers == 8 + 8 + 1)
        #expect(summary.binaryMACs == 16 * 8 * 72 && summary.realMACs == 16 * 8 * 27 + 16)
        #expect(summary.rows[4].outputShape == [1, 2])
        let expectedMemory = Double(576) / 8 + Double(summary.realParameters) * 4
        #expect(abs(summary.memoryBytes - expectedMemory) < 1e-9)
        #expect(summary.description.contains("compression ratio"))
    }
}
