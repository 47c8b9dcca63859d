import BNN
import BNNTestSupport
import Testing

/// Reference values for the sign quantizers and the binary convolution.
@Suite struct BinaryLayerTests {
    static let probes: [Float] = [-1.5, -1, -0.5, 0, 0.25, 1, 2]

    static func surrogate(_ q: any SignQuantizer) -> [Float] {
        let x = Tensor(shape: [probes.count], scalars: probes)
        return q.backward(input: x, outputGradient: Tensor(repeating: 1, shape: x.shape)).scalars
    }

    @Test func quantizerForwardIsSignWithZeroAtZero() {
        let y = ApproxSign().forward(Tensor(shape: [Self.probes.count], scalars: Self.probes))
        #expect(y.scalars == [-1, -1, -1, 0, 1, 1, 1])
    }

    @Test func quantizerSurrogateGradients() {
        #expect(Self.surrogate(ApproxSign()) == [0, 0, 1, 2, 1.5, 0, 0])
        #expect(Self.surrogate(SteSign(clipValue: 1)) == [0, 1, 1, 1, 1, 1, 0])
        #expect(Self.surrogate(SteSign(clipValue: nil)) == [1, 1, 1, 1, 1, 1, 1])
        let swish = Self.surrogate(SwishSign(beta: 5))
        #expect(abs(swish[3] - 5) < 1e-6)                 // β·2/(1+1) at 0
        #expect(abs(swish[4] - 2.262_05) < 1e-4)          // 5(2 − 1.25·tanh(0.625))/(1 + cosh(1.25))
        #expect(swish[6] < 1e-3 && swish[6] > -1e-2)      // vanishes far from 0
    }

    /// The antiderivative of Bi-Real's approximate sign derivative: −1; x²+2x; −x²+2x; 1.
    static func approxSignPolynomial(_ x: Float) -> Float {
        if x < -1 { return -1 }
        if x < 0 { return x * x + 2 * x }
        if x < 1 { return -x * x + 2 * x }
        return 1
    }

    @Test func varianceNormalisedSignGradientMatchesFiniteDifferences() {
        // The layer's backward is the exact derivative of F(x/σ(x)) with F the piecewise polynomial,
        // which is smooth enough (C¹) for central differences.
        let layer = SignActivation(quantizer: ApproxSign(), normalizesVariance: true)
        var g = SeededGenerator(seed: 4)
        var x = Tensor(randomNormal: [2, 3, 3, 2], standardDeviation: 0.7, generator: &g)
        _ = layer.forward(x, mode: .training)
        let r = GradientCheck.projectionWeights(like: x, seed: 8)
        let analytic = layer.backward(r)
        let numeric = GradientCheck.numericalGradient(of: &x, step: 1e-3) { input in
            var total = 0.0
            for s in 0..<2 {
                let sample = Array(input.scalars[s * 18..<(s + 1) * 18])
                let mean = sample.reduce(0, +) / 18
                let sigma = (sample.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 18).squareRoot()
                for i in 0..<18 {
                    total += Double(r.scalars[s * 18 + i]) * Double(Self.approxSignPolynomial(sample[i] / sigma))
                }
            }
            return total
        }
        #expect(GradientCheck.maxRelativeError(analytic, numeric) < 2e-2)
        // In evaluation mode there is no normalisation: the gradient is the plain surrogate.
        _ = layer.forward(x, mode: .evaluationWithGradients)
        let plain = layer.backward(r)
        let expected = ApproxSign().backward(input: x, outputGradient: r)
        #expect(plain == expected)
    }

    @Test(arguments: [(1, 1), (2, 1), (1, 0), (2, 0)])
    func binaryConvolutionEqualsFloatConvolutionOfSigns(stride: Int, padding: Int) {
        let (binary, reference) = Initializer.withSeed(21) {
            (BinaryConv2D(inputChannels: 5, outputChannels: 4, kernelSize: 3, stride: stride, padding: padding,
                          inputQuantizer: SignActivation(quantizer: ApproxSign())),
             Conv2D(inputChannels: 5, outputChannels: 4, kernelSize: 3, stride: stride, padding: padding))
        }
        reference.weight.value = binary.weight.value.map { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }
        var g = SeededGenerator(seed: 3)
        var x = Tensor(randomNormal: [2, 7, 6, 5], generator: &g)
        x.scalars[0] = 0                                   // sign(0) = 0 contributes nothing
        let signs = ApproxSign().forward(x)
        let alpha = binary.outputScale()
        let perChannel = Float(3 * 3 * 5)
        for o in 0..<4 {
            let expected = (0..<Int(perChannel)).map { abs(binary.weight.value.scalars[o * Int(perChannel) + $0]) }.reduce(0, +) / perChannel
            #expect(abs(alpha[o] - expected) < 1e-6)
        }
        let zeros = [Float](repeating: 0, count: 4)
        let expectedOutput = reference.forward(signs, mode: .training).channelAffine(scale: alpha, shift: zeros)
        let output = binary.forward(x, mode: .training)
        #expect(GradientCheck.maxRelativeError(output, expectedOutput) < 1e-6)

        // Backward: the gradient reaches the latent weights unchanged (identity straight-through) and
        // the input through the approximate sign's surrogate.
        let r = GradientCheck.projectionWeights(like: output, seed: 5)
        binary.zeroGradients()
        reference.zeroGradients()
        let inputGradient = binary.backward(r)
        let referenceSignGradient = reference.backward(r.channelAffine(scale: alpha, shift: zeros))
        #expect(GradientCheck.maxRelativeError(binary.weight.gradient, reference.weight.gradient) < 1e-5)
        let expectedInputGradient = ApproxSign().backward(input: x, outputGradient: referenceSignGradient)
        #expect(GradientCheck.maxRelativeError(inputGradient, expectedInputGradient) < 1e-5)
    }

    @Test func clippedStraightThroughZeroesLargeLatentWeights() {
        let conv = Initializer.withSeed(2) {
            BinaryConv2D(inputChannels: 2, outputChannels: 2, kernelSize: 1, padding: 0, weightQuantizer: SteSign(clipValue: 1))
        }
        conv.weight.value = Tensor(shape: [2, 1, 1, 2], scalars: [1.5, -0.5, 0.25, -2])
        var g = SeededGenerator(seed: 1)
        let x = Tensor(randomUniform: [1, 2, 2, 2], lower: 0.1, upper: 1, generator: &g)
        _ = conv.forward(x, mode: .training)
        conv.zeroGradients()
        _ = conv.backward(Tensor(repeating: 1, shape: [1, 2, 2, 2]))
        #expect(conv.weight.gradient.scalars[0] == 0 && conv.weight.gradient.scalars[3] == 0)
        #expect(conv.weight.gradient.scalars[1] != 0 && conv.weight.gradient.scalars[2] != 0)
    }
}
