import BNN
import Foundation
import Testing

// The code of the documentation articles, compiled and run. Every region between `// snippet: NAME`
// and `// end-snippet` appears verbatim (indentation removed) in a Swift code block of an article in
// Documentation/BNN.docc after `<!-- snippet: NAME -->`; tools/docs/check_snippets.swift compares them,
// so an article cannot drift from code that builds and passes.

// snippet: custom-layer
/// Adds a learnable bias to every channel (the last axis): `y[…, c] = x[…, c] + bias[c]`.
/// ReActNet puts one in front of each sign activation to move its threshold.
final class LearnableBias: TensorLayer {
    /// One bias per channel, trained like any real-valued weight.
    let bias: Parameter
    private var recordedShape: [Int]?

    init(channels: Int) {
        bias = Parameter(Tensor(zeros: [channels]), kind: .real)
    }

    /// Named `bias` in checkpoints and in `namedParameters()`.
    var ownParameters: [(name: String, parameter: Parameter)] { [("bias", bias)] }

    var summaryDescription: String { "LearnableBias(\(bias.value.count))" }

    func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        precondition(input.channelCount == bias.value.count, "LearnableBias: \(input.shape)")
        recordedShape = mode.recordsForBackward ? input.shape : nil
        var output = input
        output.addChannelVector(bias.value.scalars)
        return output
    }

    func backward(_ outputGradient: Tensor) -> Tensor {
        guard recordedShape != nil else { preconditionFailure("LearnableBias.backward without forward") }
        recordedShape = nil  // backward consumes the recording
        // ∂L/∂bias[c] = Σ over all other axes of ∂L/∂y[…, c]; added, not assigned.
        bias.accumulateGradient(Tensor(shape: bias.value.shape, scalars: outputGradient.sumPerChannel()))
        return outputGradient  // ∂y/∂x is the identity
    }
}
// end-snippet

// snippet: getting-started-data
/// `count` batches of 16 RGB images, 12×12 pixels, N×H×W×C: a coloured square (red, green,
/// blue or white, the four classes) at a random place on a noisy background.
func coloredSquares(batches count: Int, seed: UInt64) -> [LabeledBatch] {
    var generator = SeededGenerator(seed: seed)
    let colors: [[Float]] = [[1, -1, -1], [-1, 1, -1], [-1, -1, 1], [1, 1, 1]]
    return (0..<count).map { _ in
        var images = Tensor(randomNormal: [16, 12, 12, 3], standardDeviation: 0.5, generator: &generator)
        var labels: [Int] = []
        for n in 0..<16 {
            let label = Int(generator.next() % 4)
            let top = Int(generator.next() % 7), left = Int(generator.next() % 7)
            for y in top..<top + 5 {
                for x in left..<left + 5 {
                    for c in 0..<3 { images[n, y, x, c] += colors[label][c] }
                }
            }
            labels.append(label)
        }
        return LabeledBatch(images: images, labels: labels)
    }
}
// end-snippet

// snippet: getting-started-model
/// A real-valued stem, two binary residual blocks and a real-valued classifier.
func makeSquaresModel(seed: UInt64) -> Sequential {
    Initializer.withSeed(seed) {
        Sequential {
            Conv2D(inputChannels: 3, outputChannels: 16, kernelSize: 3, padding: 1)
            BatchNorm2D(channels: 16)
            HardTanh()
            for _ in 0..<2 {
                Residual(body: Sequential(named: [
                    ("binary_conv", BinaryConv2D(inputChannels: 16, outputChannels: 16)),
                    ("bn1", BatchNorm2D(channels: 16)),
                ]), post: HardTanh())
            }
            GlobalAvgPool()
            Linear(inputFeatures: 16, outputFeatures: 4)
        }
    }
}
// end-snippet

@Suite struct DocumentationExampleTests {
    @Test func gettingStartedTrainsSavesAndLoads() throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("bnn-docs-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        // snippet: getting-started-summary
        let model = makeSquaresModel(seed: 1)
        let summary = ModelSummary(model, inputShape: [1, 12, 12, 3])
        print(summary)
        // end-snippet
        #expect(summary.binaryParameters == 2 * 16 * 3 * 3 * 16)
        #expect(summary.compressionRatio > 1)
        #expect(model.namedParameters().map(\.name).contains("3.binary_conv.weight"))

        // snippet: getting-started-train
        let optimizer = Adam(ParameterGroups(model.namedParameters()), learningRate: 1e-2)
        let trainer = Trainer(model: model, optimizer: optimizer,
                              schedule: ConstantSchedule(learningRate: 1e-2), maxGradientNorm: 5)
        let validation = coloredSquares(batches: 4, seed: 100)
        for epoch in 0..<4 {
            let report = trainer.runEpoch(training: coloredSquares(batches: 8, seed: UInt64(epoch)),
                                          validation: validation)
            print("epoch \(epoch + 1): loss \(report.loss), validation top-1 \(report.validation?.top1 ?? 0)")
        }
        // end-snippet
        let final = trainer.evaluate(validation)
        #expect(final.top1 >= 0.9, "validation top-1 \(final.top1)")

        // snippet: getting-started-save
        // Weights and BatchNorm statistics under PyTorch names, in one safetensors file.
        let checkpointURL = directory.appendingPathComponent("squares.safetensors")
        try Checkpoint.save(model, to: checkpointURL)

        // Later, or in another program: build the same architecture and load the weights.
        let deployed = makeSquaresModel(seed: 2)
        try Checkpoint(contentsOf: checkpointURL).load(into: deployed)
        let logits = deployed(validation[0].images)   // evaluation mode: running statistics
        print("top-1 on one batch:", Accuracy.topK(logits, labels: validation[0].labels))

        // To continue training later, save the trainer: model, optimizer state and progress.
        let resumeURL = directory.appendingPathComponent("squares-training.safetensors")
        try trainer.saveCheckpoint(to: resumeURL)
        // end-snippet
        #expect(logits == model(validation[0].images))
        #expect(Accuracy.topK(logits, labels: validation[0].labels) >= 0.75)

        // snippet: getting-started-resume
        let fresh = makeSquaresModel(seed: 3)
        let resumed = Trainer(model: fresh, optimizer: Adam(ParameterGroups(fresh.namedParameters()), learningRate: 1e-2),
                              schedule: ConstantSchedule(learningRate: 1e-2), maxGradientNorm: 5)
        try resumed.restore(from: resumeURL)
        print("resuming at epoch \(resumed.progress.epoch + 1)")
        // end-snippet
        #expect(resumed.progress.epoch == 4)
        #expect(resumed.progress == trainer.progress)
        #expect(fresh.namedParameters().map(\.parameter.value) == model.namedParameters().map(\.parameter.value))
    }

    @Test func customLayerGradientsMatchFiniteDifferences() {
        // snippet: custom-layer-gradient-test
        var generator = SeededGenerator(seed: 7)
        let layer = LearnableBias(channels: 3)
        layer.bias.value = Tensor(randomNormal: [3], generator: &generator)
        let x = Tensor(randomNormal: [2, 4, 4, 3], generator: &generator)
        // A random projection r turns the output into a scalar loss L = Σ r·y, so ∂L/∂y = r.
        let r = Tensor(randomNormal: [2, 4, 4, 3], generator: &generator)
        func loss() -> Double { zip(layer(x).scalars, r.scalars).reduce(0) { $0 + Double($1.0 * $1.1) } }

        layer.zeroGradients()
        _ = layer.forward(x, mode: .training)
        let inputGradient = layer.backward(r)
        for c in 0..<3 {   // central differences for every bias entry
            let saved = layer.bias.value[c]
            layer.bias.value[c] = saved + 1e-2
            let plus = loss()
            layer.bias.value[c] = saved - 1e-2
            let minus = loss()
            layer.bias.value[c] = saved
            let numeric = Float((plus - minus) / 2e-2)
            #expect(abs(layer.bias.gradient[c] - numeric) <= 1e-3 * max(1, abs(numeric)))
        }
        #expect(inputGradient == r)
        // end-snippet
        #expect(layer.namedParameters().map(\.name) == ["bias"])
    }

    @Test func customLayerComposesIntoAReActNetSign() {
        // snippet: custom-layer-compose
        let rsign = Sequential {
            LearnableBias(channels: 16)
            SignActivation(quantizer: ApproxSign())
        }
        print(rsign.namedParameters().map(\.name))   // ["0.bias"]
        // end-snippet
        #expect(rsign.namedParameters().map(\.name) == ["0.bias"])
        let y = rsign(Tensor(repeating: -0.5, shape: [1, 2, 2, 16]))
        #expect(y.scalars.allSatisfy { $0 == -1 })
    }

    @Test func deployingFoldsABiRealBlockIntoOnePackedConvolution() throws {
        var generator = SeededGenerator(seed: 11)
        let x = Tensor(randomUniform: [2, 8, 8, 64], lower: -1, upper: 1, generator: &generator)
        // snippet: deploying-block
        // A Bi-Real block: y = HardTanh(BatchNorm(BinaryConv(x)) + x).
        let conv = BinaryConv2D(inputChannels: 64, outputChannels: 64)
        let bn = BatchNorm2D(channels: 64)
        let block = Residual(body: Sequential(named: [("binary_conv", conv), ("bn1", bn)]), post: HardTanh())
        // end-snippet
        // Statistics as training would leave them.
        bn.runningMean.value = Tensor(randomNormal: [64], standardDeviation: 0.5, generator: &generator)
        bn.runningVariance.value = Tensor(randomUniform: [64], lower: 0.5, upper: 2, generator: &generator)
        bn.weight.value = Tensor(randomUniform: [64], lower: 0.5, upper: 1.5, generator: &generator)
        bn.bias.value = Tensor(randomNormal: [64], standardDeviation: 0.1, generator: &generator)

        // snippet: deploying-pack
        // Once per model: 1 bit per weight and α per output channel; α and the BatchNorm fold into one
        // multiply-add per channel, the HardTanh after the shortcut into a clamp.
        let weights = try PackedWeights(packing: conv.weight.value)
        let transform = BinaryOutputTransform.folding(
            alpha: weights.alpha, gamma: bn.weight.value.scalars, beta: bn.bias.value.scalars,
            runningMean: bn.runningMean.value.scalars, runningVariance: bn.runningVariance.value.scalars,
            epsilon: bn.epsilon, clamp: -1...1)
        print("weights: \(weights.floatByteCount) bytes as Float, \(weights.packedByteCount) packed")

        // Per input: pack the signs, with a zero border for the padding, and run the fused kernel.
        let packed = try PackedActivations(packing: x, margin: 1)
        let y = try BinaryConvolution.forward(packed, weights: weights, stride: 1, padding: 1,
                                              transform: transform, residual: x)
        // end-snippet
        #expect(weights.floatByteCount == 147_456 && weights.packedByteCount == 4_608)
        let expected = block(x)
        #expect(y.shape == expected.shape)
        let worst = zip(y.scalars, expected.scalars).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
        #expect(worst < 1e-4, "packed block differs from the float block by \(worst)")
    }

    @Test func landingPageModelAndLatentWeightGroup() {
        // snippet: landing-page
        let model = Sequential {
            Conv2D(inputChannels: 3, outputChannels: 32, kernelSize: 3, padding: 1)
            BatchNorm2D(channels: 32)
            HardTanh()
            Residual(body: Sequential(named: [
                ("binary_conv", BinaryConv2D(inputChannels: 32, outputChannels: 32)),
                ("bn1", BatchNorm2D(channels: 32)),
            ]), post: HardTanh())
            GlobalAvgPool()
            Linear(inputFeatures: 32, outputFeatures: 10)
        }
        print(ModelSummary(model, inputShape: [1, 32, 32, 3]))
        // end-snippet
        #expect(model(Tensor(zeros: [1, 32, 32, 3])).shape == [1, 10])

        // snippet: latent-weight-group
        let groups = ParameterGroups(model.namedParameters())
            .splitting("latent_binary", options: ParameterGroupOptions(weightDecay: 0, weightClip: 1),
                       where: ParameterGroups.isLatentBinary)
        let optimizer = Adam(groups, learningRate: 1e-3)
        // end-snippet
        #expect(groups.groups.map { $0.parameters.map(\.name) }.last == ["3.binary_conv.weight"])
        #expect(optimizer.parameters.count == model.trainableParameters.count)
    }
}
