import BiRealNet
import BNN
import Testing

@Suite struct BiRealNetStructureTests {
    /// Trainable parameters and BatchNorm running statistics (mean + variance, not `num_batches_tracked`).
    static func counts(_ model: BiRealNet) -> (trainable: Int, statistics: Int) {
        var trainable = 0, statistics = 0
        for (name, p) in model.namedParameters() {
            if p.isTrainable { trainable += p.value.count }
            if name.hasSuffix("running_mean") || name.hasSuffix("running_var") { statistics += p.value.count }
        }
        return (trainable, statistics)
    }

    @Test func birealnet34ParameterCountsMatchTheReference() {
        let reference = BiRealNet(.birealnet34(classes: 1000))
        #expect(Self.counts(reference) == (21_798_696, 18_048))
        let paper = BiRealNet(.birealnet34(classes: 1000, variant: .paper))
        #expect(Self.counts(paper) == (21_797_672, 17_024))
        let summary = ModelSummary(reference, inputShape: [1, 224, 224, 3])
        #expect(summary.trainableParameters == 21_798_696)
        #expect(summary.rows.last?.outputShape == [1, 1000])
        // 32 binary 3×3 convolutions; everything else is real-valued.
        #expect(summary.rows.filter { $0.binaryParameters > 0 }.count == 32)
    }

    @Test func parameterNamesFollowThePyTorchStateDict() {
        let names = Set(BiRealNet(.birealnet18(classes: 10, stem: .small, widths: [8, 16, 32, 64])).namedParameters().map(\.name))
        for expected in ["conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
                         "bn1.num_batches_tracked", "layer1.0.binary_conv.weight", "layer1.3.bn1.running_var",
                         "layer2.0.downsample.1.weight", "layer2.0.downsample.2.running_mean",
                         "layer4.3.binary_conv.weight", "bn2.weight", "bn2.running_var", "fc.weight", "fc.bias"] {
            #expect(names.contains(expected), "missing \(expected)")
        }
        #expect(!names.contains("layer1.0.downsample.1.weight"))
        #expect(names.count == 1 + 5 + 16 * 6 + 3 * 6 + 5 + 2)
    }

    @Test func smallModelRunsForwardAndBackward() {
        let model = Initializer.withSeed(3) { BiRealNet(.birealnet18(classes: 10, stem: .small, widths: [8, 16, 32, 64])) }
        var g = SeededGenerator(seed: 1)
        let x = Tensor(randomNormal: [2, 16, 16, 3], generator: &g)
        let logits = model.forward(x, mode: .training)
        #expect(logits.shape == [2, 10])
        let (_, gradient) = SoftmaxCrossEntropy()(logits, labels: [1, 7])
        model.zeroGradients()
        let dx = model.backward(gradient)
        // The images get no gradient by default; the stem's weights do.
        #expect(dx.shape == x.shape && dx.maxAbs() == 0)
        #expect(model.fc.weight.gradient.maxAbs() > 0)
        let stemGradient = model.conv1.weight.gradient
        #expect(stemGradient.maxAbs() > 0)
        // Asking for it gives a real input gradient and the same weight gradients.
        model.conv1.computesInputGradient = true
        _ = model.forward(x, mode: .training)
        model.zeroGradients()
        let requested = model.backward(gradient)
        #expect(requested.shape == x.shape && requested.isFinite && requested.maxAbs() > 0)
        #expect(model.conv1.weight.gradient.scalars == stemGradient.scalars)
    }

    @Test(arguments: [28, 30, 33])
    func oddFeatureMapSizesKeepShortcutsAligned(size: Int) {
        // 28 → 14 → 7 → 4: the stride-2 shortcut pools 7×7 to 4×4 like the binary convolution.
        let model = Initializer.withSeed(5) { BiRealNet(.birealnet18(classes: 3, stem: .small, widths: [4, 4, 8, 8])) }
        var g = SeededGenerator(seed: 2)
        let logits = model.forward(Tensor(randomNormal: [1, size, size, 3], generator: &g), mode: .training)
        #expect(logits.shape == [1, 3])
        #expect(model.outputShape(forInputShape: [1, size, size, 3]) == [1, 3])
    }
}
