import BNN
import BNNKernels
import Testing

@Suite("Binary XNOR-popcount convolution")
struct BinaryConvolutionTests {
    static let channelCounts = [1, 3, 63, 64, 65, 130]
    static let spatialSizes = [1, 2, 7, 15]
    static let kernels = [(3, 3), (1, 1), (2, 3)]

    /// Every (spatial, kernel, stride, padding) whose kernel fits the padded input.
    static func cases() -> [(size: Int, kernel: (Int, Int), stride: Int, padding: Int)] {
        var all: [(Int, (Int, Int), Int, Int)] = []
        for size in spatialSizes {
            for kernel in kernels {
                for stride in [1, 2] {
                    for padding in [0, 1] where size + 2 * padding >= max(kernel.0, kernel.1) {
                        all.append((size, kernel, stride, padding))
                    }
                }
            }
        }
        return all
    }

    @Test("the reference kernel equals a float convolution of the ±1 tensors, borders included",
          arguments: channelCounts)
    func referenceMatchesFloat(channels: Int) throws {
        var generator = SeededGenerator(seed: 1_000 + UInt64(channels))
        for (index, c) in Self.cases().enumerated() {
            let outputs = c.size == 15 ? 5 : [70, 16, 9][index % 3]
            let batch = c.size <= 2 ? 2 : 1
            let x = BinaryTestSupport.plusMinusOnes([batch, c.size, c.size, channels], generator: &generator)
            let w = BinaryTestSupport.plusMinusOnes([outputs, c.kernel.0, c.kernel.1, channels], generator: &generator)
            let expected = BinaryTestSupport.naiveConvolution(x, w, stride: c.stride, padding: c.padding)
            let packedX = try PackedActivations(packing: x)
            let packedW = try PackedWeights(packing: w)
            let result = try BinaryTestSupport.run(.reference, input: packedX, weights: packedW, stride: c.stride,
                                               padding: c.padding, transform: .scaling(by: packedW.alpha),
                                               residual: nil, packedMargin: 0, split: 1)
            #expect(result.dots.map(Float.init) == expected.scalars,
                    "C \(channels) size \(c.size) kernel \(c.kernel) stride \(c.stride) padding \(c.padding)")
        }
    }

    @Test("every optimised kernel matches the reference bit for bit: dots, fused floats, packed signs, zero counts",
          arguments: channelCounts)
    func optimisedMatchesReference(channels: Int) throws {
        var generator = SeededGenerator(seed: 2_000 + UInt64(channels))
        var zeroOutputs = 0
        for (index, c) in Self.cases().enumerated() {
            let outputs = [70, 16, 9, 24, 8][index % 5]
            let batch = c.size <= 7 ? 2 : 1
            let x = BinaryTestSupport.signedValues([batch, c.size, c.size, channels], generator: &generator)
            let w = BinaryTestSupport.signedValues([outputs, c.kernel.0, c.kernel.1, channels], generator: &generator)
            let packedW = try PackedWeights(packing: w)
            let g = ConvolutionGeometry(batch: batch, inputHeight: c.size, inputWidth: c.size, inputChannels: channels,
                                        outputChannels: outputs, kernelHeight: c.kernel.0, kernelWidth: c.kernel.1,
                                        stride: c.stride, padding: c.padding)
            let residual = BinaryTestSupport.signedValues(g.outputShape, generator: &generator).scalars
            let fused = BinaryOutputTransform(scale: (0..<outputs).map { _ in generator.nextUnitFloat() * 0.3 - 0.1 },
                                              bias: (0..<outputs).map { _ in generator.nextUnitFloat() - 0.5 },
                                              clamp: -1...1)
            // Scale 1 without bias makes exact zero outputs (even dots of 0), which packing must count.
            let plain = BinaryOutputTransform(scale: [Float](repeating: 1, count: outputs))
            for margin in [c.padding, c.padding + 1] {
                let packedX = try PackedActivations(packing: x, margin: margin)
                for (transform, r) in [(fused, residual), (plain, nil)] {
                    let split = (index * 7) % max(1, batch * g.outputHeight)
                    let reference = try BinaryTestSupport.run(.reference, input: packedX, weights: packedW, stride: c.stride,
                                                          padding: c.padding, transform: transform, residual: r,
                                                          packedMargin: 1, split: split)
                    zeroOutputs += reference.unrepresentable
                    for variant in BinaryKernelVariant.optimised {
                        let optimised = try BinaryTestSupport.run(variant, input: packedX, weights: packedW, stride: c.stride,
                                                              padding: c.padding, transform: transform, residual: r,
                                                              packedMargin: 1, split: split)
                        let label = "\(variant) C \(channels) O \(outputs) size \(c.size) kernel \(c.kernel) stride \(c.stride) padding \(c.padding) margin \(margin)"
                        #expect(optimised.dots == reference.dots, "dots: \(label)")
                        #expect(optimised.values.map(\.bitPattern) == reference.values.map(\.bitPattern), "floats: \(label)")
                        #expect(optimised.packed == reference.packed, "packed signs: \(label)")
                        #expect(optimised.unrepresentable == reference.unrepresentable, "zero count: \(label)")
                    }
                }
            }
        }
        // With an even channel count some dots are exactly 0: the zero count was exercised.
        if channels % 2 == 0 { #expect(zeroOutputs > 0) }
    }

    @Test("Bi-Real Net layer widths (many row tiles per output row, border and interior) match the reference",
          arguments: [(56, 64, 64, 1), (56, 64, 128, 2), (28, 128, 144, 1), (20, 32, 40, 2), (14, 64, 40, 1), (14, 130, 32, 1)])
    func modelWidths(size: Int, channels: Int, outputs: Int, stride: Int) throws {
        var generator = SeededGenerator(seed: 2_700 + UInt64(size * outputs + stride))
        let height = 5
        let x = BinaryTestSupport.signedValues([2, height, size, channels], generator: &generator)
        let w = BinaryTestSupport.signedValues([outputs, 3, 3, channels], generator: &generator)
        let packedX = try PackedActivations(packing: x, margin: 1)
        let packedW = try PackedWeights(packing: w)
        let g = ConvolutionGeometry(batch: 2, inputHeight: height, inputWidth: size, inputChannels: channels,
                                    outputChannels: outputs, kernelHeight: 3, kernelWidth: 3, stride: stride, padding: 1)
        let residual = BinaryTestSupport.signedValues(g.outputShape, generator: &generator).scalars
        let transform = BinaryOutputTransform(scale: (0..<outputs).map { _ in generator.nextUnitFloat() * 0.3 - 0.1 },
                                              bias: (0..<outputs).map { _ in generator.nextUnitFloat() - 0.5 },
                                              clamp: -1...1)
        let reference = try BinaryTestSupport.run(.reference, input: packedX, weights: packedW, stride: stride, padding: 1,
                                              transform: transform, residual: residual, packedMargin: 1, split: 3)
        let expected = BinaryTestSupport.naiveConvolution(BinaryTestSupport.signs(x), BinaryTestSupport.signs(w),
                                                          stride: stride, padding: 1)
        #expect(reference.dots.map(Float.init) == expected.scalars)
        for variant in BinaryKernelVariant.optimised {
            let optimised = try BinaryTestSupport.run(variant, input: packedX, weights: packedW, stride: stride, padding: 1,
                                                  transform: transform, residual: residual, packedMargin: 1, split: 3)
            #expect(optimised.dots == reference.dots, "dots: \(variant)")
            #expect(optimised.values.map(\.bitPattern) == reference.values.map(\.bitPattern), "floats: \(variant)")
            #expect(optimised.packed == reference.packed, "packed signs: \(variant)")
        }
    }

    @Test("kernels with more than 64 taps (border correction without a tap mask) match the reference")
    func largeKernels() throws {
        var generator = SeededGenerator(seed: 2_500)
        for (size, kernel, stride, padding, channels) in [(9, (9, 8), 1, 1, 3), (11, (9, 9), 2, 1, 65)] {
            let x = BinaryTestSupport.plusMinusOnes([2, size, size, channels], generator: &generator)
            let w = BinaryTestSupport.plusMinusOnes([17, kernel.0, kernel.1, channels], generator: &generator)
            let packedX = try PackedActivations(packing: x, margin: padding)
            let packedW = try PackedWeights(packing: w)
            let expected = BinaryTestSupport.naiveConvolution(x, w, stride: stride, padding: padding)
            let transform = BinaryOutputTransform.scaling(by: packedW.alpha)
            let reference = try BinaryTestSupport.run(.reference, input: packedX, weights: packedW, stride: stride,
                                                  padding: padding, transform: transform, residual: nil,
                                                  packedMargin: 0, split: 1)
            #expect(reference.dots.map(Float.init) == expected.scalars)
            for variant in BinaryKernelVariant.optimised {
                let optimised = try BinaryTestSupport.run(variant, input: packedX, weights: packedW, stride: stride,
                                                      padding: padding, transform: transform, residual: nil,
                                                      packedMargin: 0, split: 1)
                #expect(optimised.dots == reference.dots, "\(variant) kernel \(kernel)")
                #expect(optimised.values.map(\.bitPattern) == reference.values.map(\.bitPattern), "\(variant)")
            }
        }
    }

    @Test("signConvolution gives conv(sign x, sign W)·α exactly, and nil when x has an exact zero")
    func signConvolution() throws {
        var generator = SeededGenerator(seed: 3_000)
        for (channels, stride, padding) in [(64, 1, 1), (65, 2, 1), (3, 2, 0), (130, 1, 0)] {
            let x = BinaryTestSupport.signedValues([2, 9, 7, channels], generator: &generator)
            let w = BinaryTestSupport.signedValues([12, 3, 3, channels], generator: &generator)
            let packedW = try PackedWeights(packing: w)
            let y = try #require(try BinaryConvolution.signConvolution(x, weights: packedW, stride: stride, padding: padding))
            let dots = BinaryTestSupport.naiveConvolution(BinaryTestSupport.signs(x), BinaryTestSupport.signs(w),
                                                          stride: stride, padding: padding)
            let expected = dots.scalars.enumerated().map { $0.element * packedW.alpha[$0.offset % 12] }
            #expect(y.shape == dots.shape)
            #expect(y.scalars == expected)
            var withZero = x
            withZero.scalars[5] = 0
            #expect(try BinaryConvolution.signConvolution(withZero, weights: packedW, stride: stride, padding: padding) == nil)
        }
    }

    @Test("fused forward: transform, residual and clamp; packed output equals the signs of the output")
    func fusedForward() throws {
        var generator = SeededGenerator(seed: 4_000)
        let x = BinaryTestSupport.signedValues([2, 8, 8, 64], generator: &generator)
        let w = BinaryTestSupport.signedValues([72, 3, 3, 64], generator: &generator)
        let packedW = try PackedWeights(packing: w)
        // Margin 0 input with padding 1: the wrapper re-margins it.
        let packedX = try PackedActivations(packing: x)
        let dots = try BinaryConvolution.dotProducts(packedX, weights: packedW, stride: 1, padding: 1)
        let expectedDots = BinaryTestSupport.naiveConvolution(BinaryTestSupport.signs(x), BinaryTestSupport.signs(w),
                                                              stride: 1, padding: 1)
        #expect(dots.map(Float.init) == expectedDots.scalars)
        let residual = BinaryTestSupport.signedValues([2, 8, 8, 72], generator: &generator)
        let transform = BinaryOutputTransform.folding(
            alpha: packedW.alpha, gamma: (0..<72).map { _ in generator.nextUnitFloat() + 0.5 },
            beta: (0..<72).map { _ in generator.nextUnitFloat() - 0.5 },
            runningMean: (0..<72).map { _ in generator.nextUnitFloat() - 0.5 },
            runningVariance: (0..<72).map { _ in generator.nextUnitFloat() + 0.1 }, clamp: -1...1)
        let (output, packed) = try BinaryConvolution.forwardPacked(packedX, weights: packedW, padding: 1,
                                                                   transform: transform, residual: residual,
                                                                   outputMargin: 1)
        var expected = [Float](repeating: 0, count: dots.count)
        for i in 0..<dots.count {
            let o = i % 72
            var v = transform.scale[o] * Float(dots[i])
            v = v + transform.bias![o]
            v = v + residual.scalars[i]
            expected[i] = min(max(v, -1), 1)
        }
        #expect(output.scalars == expected)
        #expect(packed.margin == 1)
        #expect(packed.unrepresentableCount == expected.filter { $0 == 0 }.count)
        #expect(packed.unpacked().scalars == expected.map { $0 < 0 ? -1 : 1 })
        let plain = try BinaryConvolution.forward(packedX, weights: packedW, padding: 1, transform: transform,
                                                  residual: residual)
        #expect(plain == output)
        #expect(throws: BinaryKernelError.self) {
            try BinaryConvolution.forward(packedX, weights: packedW, padding: 1, transform: transform,
                                          residual: Tensor(zeros: [2, 8, 8, 71]))
        }
    }
}
