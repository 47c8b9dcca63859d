import BiRealNet
import BNN
import BNNInference
import Foundation
import ReActNet
import Testing

/// A user's layer that lowers itself into an existing step.
private final class ShiftedClamp: ExportableLayer {
    func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        Tensor(shape: input.shape, scalars: input.scalars.map { min(max($0, -1), 2) })
    }
    func backward(_ outputGradient: Tensor) -> Tensor { outputGradient }
    func exportSteps(path: String, exporter: ModelExporter) throws -> [ExportStep] { [.clamp(minimum: -1, maximum: 2)] }
}

/// Export → engine logits against the float model's evaluation-mode logits, for networks of every
/// shape the engine fuses differently.
@Suite("The engine runs any exported network as the float model evaluates it")
struct InferenceEngineTests {
    /// Compiles `model`, runs it and compares with the float evaluation; returns the profile.
    @discardableResult
    private func check(_ model: any TensorLayer, height: Int, width: Int, batch: Int, seed: UInt64,
                       randomises: Bool = true, tolerance: Float = 1e-5) throws -> InferenceProfile {
        if randomises { InferenceTestSupport.randomise(model, seed: seed) }
        let packed = try PackedModel(exporting: model, inputHeight: height, inputWidth: width)
        let engine = try InferenceEngine(model: packed)
        let images = InferenceTestSupport.images(batch: batch, height: height, width: width, seed: seed &+ 7)
        let expected = model.forward(images, mode: .evaluation)
        var profile = InferenceProfile()
        let logits = try engine.logits(for: images, profile: &profile)
        #expect(logits.shape == expected.shape)
        #expect(profile.zeroActivations == 0)
        let error = InferenceTestSupport.relativeError(logits, expected)
        #expect(error < tolerance, "relative error \(error)")
        if batch > 1 {
            // Not a degenerate network: the images give different logits.
            let k = logits.shape[1]
            #expect(Array(logits.scalars[0..<k]) != Array(logits.scalars[k..<2 * k]))
        }
        // A second run reuses the buffers and must give the same bits.
        #expect(try engine.logits(for: images) == logits)
        return profile
    }

    @Test("VGG-style binary net with max-pools, no residuals (grouped binary convolution at 48)",
          arguments: [3, 48, 100], [1, 7])
    func vggStyle(channels: Int, batch: Int) throws {
        try check(Initializer.withSeed(UInt64(channels)) { InferenceTestSupport.vgg(channels) }, height: 8, width: 8, batch: batch,
                  seed: 21)
    }

    @Test("Residual net: two binary convolutions per block, 1×1 shortcut, binary classifier", arguments: [3, 48, 100], [1, 7])
    func residualNet(channels: Int, batch: Int) throws {
        let model = Initializer.withSeed(UInt64(channels)) {
            InferenceTestSupport.residual(channels, activation: PReLU(channels: 100), userLayer: ShiftedClamp())
        }
        try check(model, height: 6, width: 6, batch: batch, seed: 22)
    }

    @Test("The README's example model", arguments: [1, 7])
    func readmeExample(batch: Int) throws {
        let model = InferenceTestSupport.readmeModel()
        try check(model, height: 12, width: 10, batch: batch, seed: 23)
    }

    @Test("Bi-Real Net 18 and 34, both variants and stems, odd sizes and partial channel words", arguments: [
        (BiRealNetConfiguration.birealnet18(classes: 7, widths: [12, 20, 36, 72]), 37, 29),
        (.birealnet34(classes: 5, widths: [16, 24, 64, 80]), 32, 40),
        (.birealnet18(classes: 6, variant: .paper, widths: [8, 16, 72, 130]), 30, 33),
        (.birealnet34(classes: 4, stem: .small, variant: .paper, widths: [8, 16, 24, 40]), 9, 12),
        (.birealnet18(classes: 3, stem: .small, widths: [8, 16, 24, 72]), 3, 5),
        (.birealnet18(classes: 3, widths: [8, 16, 24, 32]), 1, 2),
    ])
    func biRealNet(configuration: BiRealNetConfiguration, height: Int, width: Int) throws {
        let model = InferenceTestSupport.model(configuration, seed: 24)
        let profile = try check(model, height: height, width: width, batch: 3, seed: 24, randomises: false)
        // Every binary convolution is one fused operation; no residual add or sign packing on its own.
        #expect(profile.steps.filter { $0.kind == .binaryConvolution }.count == configuration.blocksPerStage.reduce(0, +))
        #expect(!profile.steps.contains { $0.kind == .add || $0.kind == .packing })
    }

    @Test("ReActNet-A and ReAct-ResNet-18: learnable biases, RPReLU, concatenated 1×1 binary convolutions")
    func reactNet() throws {
        let widths = [8, 16, 32, 32, 64, 64] + [Int](repeating: 64, count: 6) + [128, 128]
        try check(Initializer.withSeed(25) { ReActNet.model(.reactNetA(classes: 5, stem: .small, widths: widths)) },
                  height: 16, width: 16, batch: 2, seed: 25)
        try check(Initializer.withSeed(26) { ReActNet.model(.reactResNet18(classes: 4, widths: [8, 16, 24, 40])) },
                  height: 24, width: 20, batch: 2, seed: 26)
    }

    @Test("ReActNet-A whose reduction shortcuts' average pools move into the 1×1 binary convolutions before them (AVX-512)")
    func reactNetPooledShortcuts() throws {
        let widths = [16, 32, 64, 64, 128, 128] + [Int](repeating: 128, count: 6) + [256, 256]
        let model = Initializer.withSeed(27) { ReActNet.model(.reactNetA(classes: 5, stem: .small, widths: widths)) }
        try check(model, height: 16, width: 16, batch: 2, seed: 27)
        let engine = try InferenceEngine(model: try PackedModel(exporting: model, inputHeight: 16, inputWidth: 16))
        let pooled = engine.operationNames.filter { $0.hasSuffix(" + average-pool") }.count
        #expect(pooled == (BinaryKernelVariant.selected == .avx512 ? 3 : 0), "\(engine.operationNames)")
    }

    @Test("Latent binary weights of exactly 0 count 0, as in the float model")
    func zeroWeights() throws {
        let model = InferenceTestSupport.model(.birealnet18(classes: 5, widths: [16, 48, 100, 130]), seed: 27)
        var zeros = 0
        for (name, parameter) in model.namedParameters() where name.hasSuffix("binary_conv.weight") {
            var scalars = parameter.value.scalars
            for i in stride(from: 3, to: scalars.count, by: 5) { scalars[i] = 0 }
            zeros += scalars.count / 5
            parameter.value = Tensor(shape: parameter.value.shape, scalars: scalars)
        }
        #expect(zeros > 1000)
        try check(model, height: 20, width: 20, batch: 2, seed: 27, randomises: false)
    }

    @Test("Float layers in bfloat16: weights stored as BF16 (half the bytes), logits near fp32's, read back the same")
    func bfloat16FloatLayers() throws {
        let model = InferenceTestSupport.model(.birealnet18(classes: 6, widths: [16, 32, 48, 64]), seed: 30)
        let fp32 = try PackedModel(exporting: model, inputHeight: 20, inputWidth: 20)
        let bf16 = try PackedModel(exporting: model, inputHeight: 20, inputWidth: 20, floatPrecision: .bf16)
        /// The float layers' weights and precisions, residual paths included.
        func floatLayers(_ steps: [ExportStep]) -> [([Float], ComputePrecision)] {
            var found: [([Float], ComputePrecision)] = []
            for step in steps {
                _ = step.mapped { inner in
                    if case let .convolution(c) = inner { found.append((c.weight, c.precision)) }
                    if case let .linear(l) = inner { found.append((l.weight, l.precision)) }
                    return inner
                }
            }
            return found
        }
        let (before, after) = (floatLayers(fp32.steps), floatLayers(bf16.steps))
        #expect(before.count == 5)   // the stem, three 1×1 shortcuts, the classifier
        #expect(before.count == after.count)
        for ((a, p), (b, q)) in zip(before, after) {
            #expect(p == .fp32 && q == .bf16)
            #expect(b == a.map(BFloat16GEMM.rounded))
            #expect(b != a)
        }
        // Only the layers asked for: the classifier, the last of them.
        let head = floatLayers(try PackedModel(exporting: model, inputHeight: 20, inputWidth: 20, floatPrecision: .bf16,
                                               floatLayers: ["fc"]).steps)
        #expect(head.map(\.1) == [.fp32, .fp32, .fp32, .fp32, .bf16])
        #expect(head.dropLast().map(\.0) == before.dropLast().map(\.0))
        // A selection that matches no float layer is a mistake, not a silent fp32 export.
        #expect {
            try PackedModel(exporting: model, inputHeight: 20, inputWidth: 20, floatPrecision: .bf16, floatLayers: ["classifier"])
        } throws: { error in
            let text = "\(error)"
            return text.contains("'classifier'") && text.contains("conv1") && text.contains("fc")
        }
        let images = InferenceTestSupport.images(batch: 3, height: 20, width: 20, seed: 31)
        let logits = try InferenceEngine(model: bf16).logits(for: images)
        #expect(logits != (try InferenceEngine(model: fp32).logits(for: images)))
        // Without binary layers (whose signs flip wherever a value lies within the rounding of 0, which
        // in an untrained network changes the logits at random), the error is that of the rounding:
        // 8 of 24 mantissa bits, a relative 2⁻⁸ per operand.
        let float = Sequential {
            Conv2D(inputChannels: 3, outputChannels: 24, kernelSize: 3, stride: 2, padding: 1)
            BatchNorm2D(channels: 24)
            ReLU()
            GlobalAvgPool()
            Linear(inputFeatures: 24, outputFeatures: 7, bias: true)
        }
        InferenceTestSupport.randomise(float, seed: 32)
        let expected = float.forward(images, mode: .evaluation)
        let rounded = try InferenceEngine(model: PackedModel(exporting: float, inputHeight: 20, inputWidth: 20,
                                                             floatPrecision: .bf16)).logits(for: images)
        let error = InferenceTestSupport.relativeError(rounded, expected)
        #expect(error > 1e-5 && error < 2e-2, "relative error \(error)")
        let (a, b) = (InferenceTestSupport.temporaryURL("fp32.bnnpack"), InferenceTestSupport.temporaryURL("bf16.bnnpack"))
        defer { for url in [a, b] { try? FileManager.default.removeItem(at: url) } }
        try fp32.write(to: a)
        try bf16.write(to: b)
        let read = try PackedModel(contentsOf: b)
        #expect(read == bf16)
        #expect(try InferenceEngine(model: read).logits(for: images) == logits)
        let size = { (url: URL) in try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int ?? 0 }
        #expect(try size(b) < size(a))
    }

    @Test("Batch 1 and a larger batch give the same logits per image")
    func batchIndependence() throws {
        let model = InferenceTestSupport.model(.birealnet18(classes: 4, widths: [8, 16, 24, 32]), seed: 28)
        let engine = try InferenceEngine(model: PackedModel(exporting: model, inputHeight: 16, inputWidth: 16))
        let images = InferenceTestSupport.images(batch: 3, height: 16, width: 16, seed: 29)
        let all = try engine.logits(for: images)
        let second = Tensor(shape: [1, 16, 16, 3], scalars: Array(images.scalars[768..<1536]))
        #expect(try engine.logits(for: second).scalars == Array(all.scalars[4..<8]))
    }

    @Test("Images of another size are refused naming the expected shape")
    func wrongInput() throws {
        let model = InferenceTestSupport.model(.birealnet18(classes: 4, widths: [8, 16, 24, 32]), seed: 30)
        let engine = try InferenceEngine(model: PackedModel(exporting: model, inputHeight: 16, inputWidth: 16))
        #expect(throws: InferenceError.inputShape(expected: "N×16×16×3 (N ≥ 1, channels last)", found: [1, 16, 15, 3])) {
            try engine.logits(for: Tensor(zeros: [1, 16, 15, 3]))
        }
    }

    @Test("A model whose buffers would not fit in memory is refused before anything is allocated")
    func tooLarge() throws {
        let classifier = LinearStep(weight: [1, 2, 3, 4, 5, 6], inputFeatures: 3, outputFeatures: 2, scale: [1, 1], shift: [0, 0])
        let model = try PackedModel(steps: [.globalAveragePool, .linear(classifier)], inputHeight: 60_000, inputWidth: 60_000,
                                    classNames: ["a", "b"])
        #expect {
            try InferenceEngine(model: model)
        } throws: { error in
            guard case let .tooLarge(batch, bytes, _)? = error as? InferenceError else { return false }
            return batch == 1 && bytes > 40_000_000_000 && (error as? InferenceError)?.description.contains("smaller batch or input size") == true
        }
    }
}
