import BNN
import BNNTestSupport
import Foundation
import Testing

/// Larq's quantizers: reference values by hand (they are step functions), and the smooth part of
/// DoReFa's weight mapping against finite differences.
@Suite struct QuantizerTests {
    @Test func steHeavisideValuesAndClippedGradient() {
        let x = Tensor(shape: [5], scalars: [-2, -0.5, 0, 0.5, 1.5])
        let q = SteHeaviside()
        #expect(q.quantize(x).scalars == [0, 0, 0, 1, 1])
        #expect(q.backward(input: x, outputGradient: Tensor(repeating: 3, shape: [5])).scalars == [0, 3, 3, 3, 0])
        #expect(q.bits == 1)
    }

    @Test func magnitudeAwareSignScalesEachOutputChannel() {
        // Rows (output channels) [1, -3] and [0.5, 0]: α = 2 and 0.25.
        let w = Tensor(shape: [2, 2], scalars: [1, -3, 0.5, 0])
        let q = MagnitudeAwareSign()
        #expect(q.scales(w) == [2, 0.25])
        #expect(q.quantize(w).scalars == [2, -2, 0.25, 0])
        // Gradient: α·dy where |w| ≤ 1 (the −3 is outside the clip).
        #expect(q.backward(input: w, outputGradient: Tensor(repeating: 1, shape: [2, 2])).scalars == [2, 0, 0.25, 0.25])
    }

    @Test func doReFaActivationsRoundToKBitLevels() {
        let x = Tensor(shape: [7], scalars: [-0.5, 0.1, 0.2, 0.5, 0.9, 1.3, 1])
        let q = DoReFa(bits: 2, mode: .activations)
        // clip → ×3 → round half to even → ÷3: 0, 0.3→0, 0.6→1, 1.5→2, 2.7→3, 3, 3.
        #expect(q.quantize(x).scalars == [0, 0, 1.0 / 3, 2.0 / 3, 1, 1, 1])
        #expect(q.backward(input: x, outputGradient: Tensor(repeating: 1, shape: [7])).scalars == [0, 1, 1, 1, 1, 0, 1])
        #expect(DoReFa(bits: 1).quantize(x).scalars == [0, 0, 0, 0, 1, 1, 1])
    }

    @Test func doReFaWeightsMapToSymmetricLevels() {
        let w = Tensor(shape: [4], scalars: [-2, -0.1, 0.3, 1])
        let q = DoReFa(bits: 2, mode: .weights)
        let t = w.scalars.map { tanh($0) }
        let m = t.map(abs).max()!
        let expected = t.map { 2 * (($0 / (2 * m) + 0.5) * 3).rounded(.toNearestOrEven) / 3 - 1 }
        #expect(q.quantize(w).scalars == expected)
        #expect(q.quantize(w).scalars.first == -1)
        // The gradient is that of the unrounded map tanh(w)/max|tanh(w)| (rounding straight-through).
        var g = SeededGenerator(seed: 3)
        var weights = Tensor(randomNormal: [3, 4], generator: &g)
        let r = Tensor(randomNormal: [3, 4], generator: &g)
        let analytic = q.backward(input: weights, outputGradient: r)
        let smooth: (Tensor) -> Double = { v in
            let t = v.map { tanh($0) }
            return GradientCheck.project(t * (1 / t.maxAbs()), r)
        }
        let numeric = GradientCheck.numericalGradient(of: &weights, step: 1e-3, loss: smooth)
        #expect(GradientCheck.maxRelativeError(analytic, numeric) < 1e-3)
    }

    @Test func quantizedLayersUseTheQuantizedValues() {
        let conv = Initializer.withSeed(1) { Conv2D(inputChannels: 2, outputChannels: 3, kernelSize: 3, padding: 1) }
        let plain = Conv2D(inputChannels: 2, outputChannels: 3, kernelSize: 3, padding: 1)
        let quantizer = DoReFa(bits: 3, mode: .weights)
        conv.weightQuantizer = quantizer
        plain.weight.value = quantizer.quantize(conv.weight.value)
        var g = SeededGenerator(seed: 2)
        let x = Tensor(randomNormal: [2, 4, 4, 2], generator: &g)
        let y = conv.forward(x, mode: .training)
        #expect(GradientCheck.maxRelativeError(y, plain.forward(x, mode: .training)) < 1e-6)
        let r = GradientCheck.projectionWeights(like: y, seed: 5)
        #expect(GradientCheck.maxRelativeError(conv.backward(r), plain.backward(r)) < 1e-6)
        let expected = quantizer.backward(input: conv.weight.value, outputGradient: plain.weight.gradient)
        #expect(GradientCheck.maxRelativeError(conv.weight.gradient, expected) < 1e-5)
        #expect(conv.summaryDescription.contains("dorefa(3 bit, weights)"))

        let linear = Initializer.withSeed(2) { Linear(inputFeatures: 4, outputFeatures: 2) }
        linear.weightQuantizer = MagnitudeAwareSign()
        let features = Tensor(randomNormal: [3, 4], generator: &g)
        let z = linear.forward(features, mode: .training)
        let reference = Linear(inputFeatures: 4, outputFeatures: 2)
        reference.weight.value = MagnitudeAwareSign().quantize(linear.weight.value)
        reference.bias!.value = linear.bias!.value
        #expect(GradientCheck.maxRelativeError(z, reference.forward(features, mode: .training)) < 1e-6)

        let activation = QuantizedActivation(quantizer: DoReFa(bits: 2))
        let a = activation.forward(Tensor(shape: [3], scalars: [-1, 0.4, 2]), mode: .training)
        #expect(a.scalars == [0, 1.0 / 3, 1])
        #expect(activation.backward(Tensor(repeating: 1, shape: [3])).scalars == [0, 1, 0])
    }
}
