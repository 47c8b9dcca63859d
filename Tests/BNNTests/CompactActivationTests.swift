import BNN
import BNNTestSupport
import Testing

/// What backward passes keep of their inputs, in compact form, gives the same gradients as the floats.
@Suite struct CompactActivationTests {
    /// A binary convolution on the XNOR path keeps its input's signs as bits; its weight gradient must
    /// equal, bit for bit, that of the float path fed the same signs (channel counts across word and
    /// nibble boundaries, padding and stride, odd output widths), in single precision and in bfloat16
    /// backward passes, where the bits become the kernel's paired operand directly.
    @Test(arguments: [(70, 1, 2), (64, 1, 1), (5, 0, 1), (3, 1, 1)], [PrecisionPolicy.fp32, .backwardBF16])
    func packedSignsGiveTheFloatPathsWeightGradient(shape: (channels: Int, padding: Int, stride: Int),
                                                    precision: PrecisionPolicy) {
        let (channels, padding, stride) = shape
        let (packedPath, floatPath) = Initializer.withSeed(31) {
            (BinaryConv2D(inputChannels: channels, outputChannels: 6, kernelSize: 3, stride: stride, padding: padding,
                          inputQuantizer: SignActivation(quantizer: SteSign())),
             BinaryConv2D(inputChannels: channels, outputChannels: 6, kernelSize: 3, stride: stride, padding: padding,
                          inputQuantizer: nil))
        }
        packedPath.precision = precision
        floatPath.precision = precision
        floatPath.weight.value = packedPath.weight.value
        var g = SeededGenerator(seed: 8)
        let x = Tensor(randomNormal: [2, 7, 6, channels], generator: &g)
        let signs = SteSign().forward(x)
        let output = packedPath.forward(x, mode: .training)
        let floatOutput = floatPath.forward(signs, mode: .training)
        #expect(output.shape == floatOutput.shape)
        let r = GradientCheck.projectionWeights(like: output, seed: 9)
        packedPath.zeroGradients()
        floatPath.zeroGradients()
        _ = packedPath.backward(r)
        _ = floatPath.backward(r)
        #expect(packedPath.weight.gradient == floatPath.weight.gradient)
        #expect(packedPath.weight.gradient.maxAbs() > 0)
    }

    /// The public weight gradient from packed signs equals, bit for bit, the float weight gradient of
    /// the ±1 tensor the bits stand for: with a border as wide as the padding (the paired bfloat16
    /// path), a narrower border and two groups (both expanded to floats first), in both precisions.
    @Test(arguments: [(margin: 1, groups: 1), (margin: 0, groups: 1), (margin: 1, groups: 2)],
          [ComputePrecision.fp32, .bf16])
    func packedSignsWeightGradientIsTheFloatOne(layout: (margin: Int, groups: Int), precision: ComputePrecision) throws {
        var g = SeededGenerator(seed: 12)
        let x = Tensor(randomNormal: [2, 7, 5, 10], generator: &g)
        let signs = try PackedActivations(packing: x, margin: layout.margin)
        // One group's geometry: 10 / groups input and 6 / groups output channels.
        let geometry = ConvolutionGeometry(batch: 2, inputHeight: 7, inputWidth: 5, inputChannels: 10 / layout.groups,
                                           outputChannels: 6 / layout.groups, kernelHeight: 3, kernelWidth: 3,
                                           stride: 1, padding: 1)
        let dy = Tensor(randomNormal: [2, 7, 5, 6], generator: &g)
        let packed = signs.convolutionWeightGradient(outputGradient: dy, geometry: geometry, groups: layout.groups,
                                                     precision: precision)
        let float = GroupedConvolution.backwardWeight(input: SteSign().forward(x), outputGradient: dy, geometry: geometry,
                                                      groups: layout.groups, precision: precision)
        #expect(packed.shape == [6, 3, 3, 10 / layout.groups])
        #expect(packed == float)
        #expect(packed.maxAbs() > 0)
    }

    /// HardTanh and ReLU keep one bit per element; their outputs and gradients must be exactly the
    /// float definitions, on lengths around the 64-bit word boundary and long enough to be split over
    /// threads, with values on the bounds, ±0, ±∞ and NaN.
    @Test(arguments: [1, 63, 64, 65, 200, 70_001])
    func clampMasksGiveTheFloatDefinitions(count: Int) {
        var g = SeededGenerator(seed: UInt64(count))
        let specials: [Float] = [-1, 1, 0, -0.0, .infinity, -.infinity, .nan, 0.999_999_9, -1.000_000_1]
        let values = (0..<count).map { i -> Float in
            i % 7 == 3 ? specials[(i / 7) % specials.count] : g.nextUnitFloat() * 4 - 2
        }
        let input = Tensor(shape: [count], scalars: values)
        let gradient = Tensor(randomNormal: [count], generator: &g)
        for (layer, lo, hi) in [(HardTanh() as any TensorLayer, Float(-1), Float(1)), (ReLU(), 0, .infinity)] {
            let output = layer.forward(input, mode: .training)
            let inputGradient = layer.backward(gradient)
            let expectedOutput = values.map { v -> Float in let low = v < lo ? lo : v; return low > hi ? hi : low }
            let expectedGradient = zip(values, gradient.scalars).map { v, dy in v > lo && v < hi ? dy : 0 }
            #expect(zip(output.scalars, expectedOutput).allSatisfy { $0.bitPattern == $1.bitPattern })
            #expect(inputGradient.scalars.map(\.bitPattern) == expectedGradient.map(\.bitPattern))
        }
    }
}
