import BNN
import BNNTestSupport
import Testing

/// Finite-difference checks of every smooth layer's backward pass.
@Suite struct LayerGradientTests {
    static func randomInput(_ shape: [Int], seed: UInt64 = 1) -> Tensor {
        var g = SeededGenerator(seed: seed)
        return Tensor(randomNormal: shape, generator: &g)
    }

    static func expectSmall(_ result: (input: Float, parameters: [String: Float]), tolerance: Float = 2e-2,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.input < tolerance, "input gradient error \(result.input)", sourceLocation: sourceLocation)
        for (name, error) in result.parameters {
            #expect(error < tolerance, "\(name) gradient error \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: [(1, 0, 1), (3, 1, 1), (3, 1, 2), (3, 0, 2), (2, 1, 2)])
    func conv2D(kernel: Int, padding: Int, stride: Int) {
        let conv = Initializer.withSeed(7) { Conv2D(inputChannels: 3, outputChannels: 4, kernelSize: kernel, stride: stride, padding: padding, bias: true) }
        let result = GradientCheck.check(conv, input: Self.randomInput([2, 5, 6, 3]))
        #expect(result.parameters.keys.sorted() == ["bias", "weight"])
        Self.expectSmall(result)
    }

    @Test func linear() {
        let linear = Initializer.withSeed(3) { Linear(inputFeatures: 5, outputFeatures: 3) }
        Self.expectSmall(GradientCheck.check(linear, input: Self.randomInput([4, 5])))
    }

    @Test func batchNormTrainingAndEvaluation() {
        let bn = BatchNorm2D(channels: 3)
        var g = SeededGenerator(seed: 5)
        bn.weight.value = Tensor(randomUniform: [3], lower: 0.5, upper: 1.5, generator: &g)
        bn.bias.value = Tensor(randomNormal: [3], generator: &g)
        let input = Self.randomInput([2, 3, 2, 3]) * 2
        Self.expectSmall(GradientCheck.check(bn, input: input, mode: .training))
        bn.runningVariance.value = Tensor(shape: [3], scalars: [0.5, 2, 1.5])
        Self.expectSmall(GradientCheck.check(bn, input: input, mode: .evaluationWithGradients))
        // 2-D input (the head BatchNorm of Bi-Real Net works on pooled N×C features).
        Self.expectSmall(GradientCheck.check(bn, input: Self.randomInput([5, 3]), mode: .training))
    }

    @Test func pooling() {
        let input = Self.randomInput([2, 6, 5, 3])
        Self.expectSmall(GradientCheck.check(AvgPool2D(kernelSize: 2, stride: 2), input: input))
        Self.expectSmall(GradientCheck.check(AvgPool2D(kernelSize: 3, stride: 2, padding: 1), input: input))
        Self.expectSmall(GradientCheck.check(AvgPool2D(kernelSize: 2, stride: 2, ceilMode: true), input: input))
        Self.expectSmall(GradientCheck.check(GlobalAvgPool(), input: input))
        // Random normal inputs have no ties within a step of 1e-3.
        Self.expectSmall(GradientCheck.check(MaxPool2D(kernelSize: 3, stride: 2, padding: 1), input: input, step: 1e-3))
    }

    @Test func ceilModeAveragePoolingKeepsPartialWindows() {
        // 3×3 input, 2×2 windows with stride 2, ceil mode: output 2×2; the partial windows average only
        // their valid inputs (PyTorch `AvgPool2d(2, 2, ceil_mode=True)`).
        let x = Tensor(shape: [1, 3, 3, 1], scalars: [1, 2, 3, 4, 5, 6, 7, 8, 9])
        let y = AvgPool2D(kernelSize: 2, stride: 2, ceilMode: true).forward(x, mode: .evaluation)
        #expect(y.shape == [1, 2, 2, 1])
        #expect(y.scalars == [3, 4.5, 7.5, 9])
        #expect(AvgPool2D(kernelSize: 2, stride: 2).outputShape(forInputShape: [1, 7, 7, 4]) == [1, 3, 3, 4])
        #expect(AvgPool2D(kernelSize: 2, stride: 2, ceilMode: true).outputShape(forInputShape: [1, 7, 7, 4]) == [1, 4, 4, 4])
    }

    @Test func pointwiseActivations() {
        // Keep inputs away from the kinks so finite differences are valid.
        let input = Self.randomInput([2, 3, 3, 4]).map { $0 + ($0 >= 0 ? 0.05 : -0.05) }
        Self.expectSmall(GradientCheck.check(ReLU(), input: input, step: 1e-3))
        Self.expectSmall(GradientCheck.check(HardTanh(), input: input.map { abs(abs($0) - 1) < 0.05 ? $0 * 0.9 : $0 }, step: 1e-3))
        Self.expectSmall(GradientCheck.check(PReLU(channels: 4), input: input, step: 1e-3))
        Self.expectSmall(GradientCheck.check(Flatten(), input: input))
    }

    @Test func sequentialAndResidualCompose() {
        let block = Initializer.withSeed(11) { Residual(
            body: Sequential(named: [("conv", Conv2D(inputChannels: 3, outputChannels: 3, kernelSize: 3, padding: 1)),
                                     ("bn", BatchNorm2D(channels: 3))]),
            shortcut: Sequential {
                AvgPool2D(kernelSize: 1)
                Conv2D(inputChannels: 3, outputChannels: 3, kernelSize: 1)
            }) }
        let names = block.namedParameters().map(\.name)
        #expect(names.contains("conv.weight") && names.contains("bn.running_var") && names.contains("downsample.1.weight"))
        Self.expectSmall(GradientCheck.check(block, input: Self.randomInput([2, 4, 4, 3])))
        let identity = Initializer.withSeed(12) { Residual(body: Linear(inputFeatures: 3, outputFeatures: 3)) }
        #expect(identity.namedParameters().map(\.name) == ["weight", "bias"])
        Self.expectSmall(GradientCheck.check(identity, input: Self.randomInput([2, 3])))
    }

    @Test func crossEntropyWithSmoothingAndSoftTargets() {
        var logits = Self.randomInput([3, 5]) * 3
        let labels = [4, 0, 2]
        for smoothing: Float in [0, 0.1] {
            let loss = SoftmaxCrossEntropy(labelSmoothing: smoothing)
            let analytic = loss(logits, labels: labels).gradient
            let numeric = GradientCheck.numericalGradient(of: &logits, step: 1e-2) { Double(loss($0, labels: labels).loss) }
            #expect(GradientCheck.maxRelativeError(analytic, numeric) < 1e-3)
        }
        var g = SeededGenerator(seed: 2)
        var targets = Tensor(randomUniform: [3, 5], lower: 0.1, upper: 1, generator: &g)
        for row in 0..<3 {
            let total = (0..<5).map { targets.scalars[row * 5 + $0] }.reduce(0, +)
            for j in 0..<5 { targets.scalars[row * 5 + j] /= total }
        }
        let soft = SoftmaxCrossEntropy(labelSmoothing: 0.1)
        let analytic = soft(logits, targets: targets).gradient
        let numeric = GradientCheck.numericalGradient(of: &logits, step: 1e-2) { Double(soft($0, targets: targets).loss) }
        #expect(GradientCheck.maxRelativeError(analytic, numeric) < 1e-3)
    }

    @Test func crossEntropyReferenceValue() {
        // log-softmax of [1, 2, 3]: −2.4076, −1.4076, −0.4076; label 0 with ε = 0.3 over K = 3:
        // target (0.8, 0.1, 0.1) → loss 0.8·2.4076 + 0.1·1.4076 + 0.1·0.4076 = 2.10760.
        let logits = Tensor(shape: [1, 3], scalars: [1, 2, 3])
        let (loss, _) = SoftmaxCrossEntropy(labelSmoothing: 0.3)(logits, labels: [0])
        #expect(abs(loss - 2.107_606) < 1e-4)
        #expect(Accuracy.topK(Tensor(shape: [2, 3], scalars: [0, 5, 1, 3, 3, 0]), labels: [2, 1], k: 1) == 0)
        #expect(Accuracy.topK(Tensor(shape: [2, 3], scalars: [0, 5, 1, 3, 3, 0]), labels: [2, 0], k: 2) == 1)
    }
}
