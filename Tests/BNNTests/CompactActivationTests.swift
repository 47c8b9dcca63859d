import BNN
import BNNTestSupport
import Testing

/// What backward passes keep of their inputs, in compact form, gives the same gradients as the floats.
@Suite struct CompactActivationTests {
    /// A binary convolution on the XNOR path keeps its input's signs as bits; its weight gradient must
    /// equal, bit for bit, that of the float path fed the same signs (channel counts across word
    /// boundaries, padding and stride).
    @Test(arguments: [(70, 1, 2), (64, 1, 1), (5, 0, 1)])
    func packedSignsGiveTheFloatPathsWeightGradient(channels: Int, padding: Int, stride: Int) {
        let (packedPath, floatPath) = Initializer.withSeed(31) {
            (BinaryConv2D(inputChannels: channels, outputChannels: 6, kernelSize: 3, stride: stride, padding: padding,
                          inputQuantizer: SignActivation(quantizer: SteSign())),
             BinaryConv2D(inputChannels: channels, outputChannels: 6, kernelSize: 3, stride: stride, padding: padding,
                          inputQuantizer: nil))
        }
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
}
