import BNN
import BNNTestSupport
import Foundation
import Testing

/// The layers ReActNet and Larq users need: shifts, concatenation, grouped and depthwise convolution,
/// binary dense layers; finite differences where smooth, references built from existing layers otherwise.
@Suite struct ReActLayerTests {
    static func randomInput(_ shape: [Int], seed: UInt64 = 1) -> Tensor {
        var g = SeededGenerator(seed: seed)
        return Tensor(randomNormal: shape, generator: &g)
    }

    @Test func learnableBiasShiftsChannelsAndSavesAsPyTorch() {
        let layer = BNN.LearnableBias(channels: 3)
        layer.bias.value = Tensor(shape: [3], scalars: [0.5, -1, 2])
        let y = layer.forward(Tensor(zeros: [1, 2, 1, 3]), mode: .evaluation)
        #expect(y.scalars == [0.5, -1, 2, 0.5, -1, 2])
        #expect(layer.bias.diskShape == [1, 3, 1, 1])
        #expect(layer.bias.diskValue().scalars == [0.5, -1, 2])
        LayerGradientTests.expectSmall(GradientCheck.check(layer, input: Self.randomInput([2, 3, 2, 3])))
    }

    /// The fused RPReLU equals the chain LearnableBias → PReLU → LearnableBias bit for bit: output,
    /// input gradient and the three parameter gradients, on one and two threads, with inputs of
    /// both signs around the shift and more rows than one block of the per-channel sums; its names
    /// and parameters are the chain's.
    @Test(arguments: [1, 2], [3, 70])
    func rpreluEqualsTheChainOfThree(threads: Int, channels c: Int) {
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        Parallel.threadCount = threads
        let fused = RPReLU(channels: c, names: ("move1", "prelu", "move2"))
        let chain = Sequential(named: [("move1", LearnableBias(channels: c)), ("prelu", PReLU(channels: c)),
                                       ("move2", LearnableBias(channels: c))])
        var g = SeededGenerator(seed: UInt64(c))
        let before = Tensor(randomNormal: [c], generator: &g), slopes = Tensor(randomNormal: [c], generator: &g)
        let after = Tensor(randomNormal: [c], generator: &g)
        for (layer, values) in zip([fused as any TensorLayer, chain], [[before, slopes, after], [before, slopes, after]]) {
            for ((_, parameter), value) in zip(layer.namedParameters(), values) { parameter.value = value }
        }
        #expect(fused.namedParameters().map(\.name) == chain.namedParameters().map(\.name))
        let x = Self.randomInput([3, 40, 30, c], seed: 7)   // 3600 rows: several blocks of sums
        let y = fused.forward(x, mode: .training), yChain = chain.forward(x, mode: .training)
        #expect(y.scalars.map(\.bitPattern) == yChain.scalars.map(\.bitPattern))
        let dy = Self.randomInput(x.shape, seed: 8)
        fused.zeroGradients()
        chain.zeroGradients()
        let dx = fused.backward(dy), dxChain = chain.backward(dy)
        #expect(dx.scalars.map(\.bitPattern) == dxChain.scalars.map(\.bitPattern))
        for ((name, p), (_, q)) in zip(fused.namedParameters(), chain.namedParameters()) {
            #expect(p.gradient.scalars.map(\.bitPattern) == q.gradient.scalars.map(\.bitPattern), "\(name)")
            #expect(p.gradient.maxAbs() > 0, "\(name)")
        }
    }

    @Test func concatenateJoinsBranchesAndSplitsTheGradient() {
        let layer = Initializer.withSeed(3) {
            Concatenate(named: [("a", Conv2D(inputChannels: 2, outputChannels: 3, kernelSize: 1)),
                                ("b", Sequential { Conv2D(inputChannels: 2, outputChannels: 1, kernelSize: 3, padding: 1); PReLU(channels: 1) })])
        }
        let x = Self.randomInput([2, 4, 3, 2])
        let y = layer.forward(x, mode: .evaluation)
        #expect(y.shape == [2, 4, 3, 4] && layer.outputShape(forInputShape: x.shape) == [2, 4, 3, 4])
        let a = (layer.branches[0].layer).forward(x, mode: .evaluation)
        #expect(y.channelSlice(0..<3) == a)
        #expect(layer.namedParameters().map(\.name) == ["a.weight", "b.0.weight", "b.1.weight"])
        LayerGradientTests.expectSmall(GradientCheck.check(layer, input: x, step: 1e-3))
    }

    /// A full convolution with `weights` placed block-diagonally: what a grouped convolution computes.
    static func blockDiagonal(_ grouped: Tensor, groups: Int, inputChannels: Int) -> Tensor {
        let (o, kh, kw, cg) = (grouped.shape[0], grouped.shape[1], grouped.shape[2], grouped.shape[3])
        var full = Tensor(zeros: [o, kh, kw, inputChannels])
        for out in 0..<o {
            let group = out / (o / groups)
            for tap in 0..<kh * kw {
                for c in 0..<cg {
                    full.scalars[(out * kh * kw + tap) * inputChannels + group * cg + c] = grouped.scalars[(out * kh * kw + tap) * cg + c]
                }
            }
        }
        return full
    }

    @Test(arguments: [(6, 4, 2, 1, 1), (6, 6, 6, 1, 1), (5, 10, 5, 2, 1), (8, 8, 8, 2, 0), (8, 8, 8, 1, 1)])
    func groupedConvolutionEqualsBlockDiagonalFullConvolution(inputs: Int, outputs: Int, groups: Int, stride: Int, padding: Int) {
        let grouped = Initializer.withSeed(5) {
            Conv2D(inputChannels: inputs, outputChannels: outputs, kernelSize: 3, stride: stride, padding: padding, bias: true, groups: groups)
        }
        let full = Conv2D(inputChannels: inputs, outputChannels: outputs, kernelSize: 3, stride: stride, padding: padding, bias: true)
        full.weight.value = Self.blockDiagonal(grouped.weight.value, groups: groups, inputChannels: inputs)
        full.bias!.value = grouped.bias!.value
        #expect(grouped.weight.diskShape == [outputs, inputs / groups, 3, 3])
        let x = Self.randomInput([3, 7, 6, inputs], seed: 9)
        let y = grouped.forward(x, mode: .training)
        #expect(GradientCheck.maxRelativeError(y, full.forward(x, mode: .training)) < 1e-5)
        let r = GradientCheck.projectionWeights(like: y, seed: 4)
        grouped.zeroGradients(); full.zeroGradients()
        let dx = grouped.backward(r)
        #expect(GradientCheck.maxRelativeError(dx, full.backward(r)) < 1e-5)
        let expectedWeight = Self.blockDiagonal(grouped.weight.gradient, groups: groups, inputChannels: inputs)
        let blocks = Self.blockDiagonal(grouped.weight.value.map { _ in 1 }, groups: groups, inputChannels: inputs)
        #expect(GradientCheck.maxRelativeError(expectedWeight, full.weight.gradient * blocks) < 1e-4)
        #expect(grouped.multiplyAccumulates(forInputShape: x.shape).real * groups == full.multiplyAccumulates(forInputShape: x.shape).real)
    }

    @Test func depthwiseAndGroupedGradientsAgainstFiniteDifferences() {
        for groups in [4, 2] {
            let conv = Initializer.withSeed(7) { Conv2D(inputChannels: 4, outputChannels: 4, kernelSize: 3, stride: 2, padding: 1, groups: groups) }
            LayerGradientTests.expectSmall(GradientCheck.check(conv, input: Self.randomInput([2, 5, 6, 4])))
        }
    }

    @Test func groupedBinaryConvolutionEqualsBlockDiagonalSigns() {
        for groups in [2, 6] {
            let grouped = Initializer.withSeed(8) {
                BinaryConv2D(inputChannels: 6, outputChannels: 6, stride: 1, inputQuantizer: SignActivation(quantizer: ApproxSign()),
                             scalesOutput: false, groups: groups)
            }
            // Zero weights have sign 0 in the full layer, exactly the missing connections of the groups.
            let full = BinaryConv2D(inputChannels: 6, outputChannels: 6, inputQuantizer: SignActivation(quantizer: ApproxSign()),
                                    scalesOutput: false)
            full.weight.value = Self.blockDiagonal(grouped.weight.value, groups: groups, inputChannels: 6)
            let x = Self.randomInput([2, 5, 5, 6], seed: 3) * 0.7
            let y = grouped.forward(x, mode: .training)
            #expect(y == full.forward(x, mode: .training))
            let r = GradientCheck.projectionWeights(like: y, seed: 1)
            grouped.zeroGradients(); full.zeroGradients()
            #expect(GradientCheck.maxRelativeError(grouped.backward(r), full.backward(r)) < 1e-5)
            let expected = Self.blockDiagonal(grouped.weight.gradient, groups: groups, inputChannels: 6)
            let mask = full.weight.value.map { $0 == 0 ? 0 : 1 }
            #expect(GradientCheck.maxRelativeError(expected, full.weight.gradient * mask) < 1e-4)
        }
    }

    @Test func binaryConvolutionWeightGradientWithoutScale() {
        let conv = Initializer.withSeed(2) { BinaryConv2D(inputChannels: 3, outputChannels: 2, weightQuantizer: SteSign(clipValue: 1)) }
        let x = Self.randomInput([1, 4, 4, 3], seed: 6)
        let r = GradientCheck.projectionWeights(like: conv.forward(x, mode: .training), seed: 2)
        _ = conv.backward(r)
        let scaled = conv.weight.gradient
        conv.zeroGradients()
        conv.weightGradientIncludesScale = false
        _ = conv.forward(x, mode: .training)
        _ = conv.backward(r)
        let alpha = conv.outputScale()
        let perChannel = scaled.count / 2
        let divided = Tensor(shape: scaled.shape, scalars: scaled.scalars.enumerated().map { $0.element / alpha[$0.offset / perChannel] })
        #expect(GradientCheck.maxRelativeError(divided, conv.weight.gradient) < 1e-5)
    }

    @Test func binaryLinearAgainstLoops() {
        let layer = Initializer.withSeed(4) {
            BinaryLinear(inputFeatures: 5, outputFeatures: 3, inputQuantizer: SignActivation(quantizer: ApproxSign()))
        }
        let x = Self.randomInput([4, 5], seed: 2)
        let w = layer.weight.value.scalars
        let alpha = (0..<3).map { o in (0..<5).map { abs(w[o * 5 + $0]) }.reduce(0, +) / 5 }
        let sign: (Float) -> Float = { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }
        let y = layer.forward(x, mode: .training)
        for n in 0..<4 {
            for o in 0..<3 {
                let dot = (0..<5).map { sign(x.scalars[n * 5 + $0]) * sign(w[o * 5 + $0]) }.reduce(0, +)
                #expect(abs(y.scalars[n * 3 + o] - dot * alpha[o]) < 1e-5)
            }
        }
        let r = GradientCheck.projectionWeights(like: y, seed: 3)
        let dx = layer.backward(r)
        for n in 0..<4 {
            for f in 0..<5 {
                let upstream = (0..<3).map { r.scalars[n * 3 + $0] * alpha[$0] * sign(w[$0 * 5 + f]) }.reduce(0, +)
                let expected = upstream * max(0, 2 - 2 * abs(x.scalars[n * 5 + f]))
                #expect(abs(dx.scalars[n * 5 + f] - expected) < 1e-5)
            }
        }
        for o in 0..<3 {
            for f in 0..<5 {
                let expected = (0..<4).map { r.scalars[$0 * 3 + o] * alpha[o] * sign(x.scalars[$0 * 5 + f]) }.reduce(0, +)
                let clipped: Float = abs(w[o * 5 + f]) <= 1 ? expected : 0
                #expect(abs(layer.weight.gradient.scalars[o * 5 + f] - clipped) < 1e-5)
            }
        }
        var summary = ModelSummary(layer, inputShape: [4, 5])
        #expect(summary.binaryParameters == 15 && summary.binaryMACs == 60)
        summary = ModelSummary(Sequential { Flatten(); layer }, inputShape: [4, 5])
        #expect(summary.rows.count == 2)
    }
}
