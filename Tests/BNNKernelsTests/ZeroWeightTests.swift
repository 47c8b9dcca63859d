import BNN
import BNNKernels
import Testing

/// Weights of exactly 0 (sign 0 in the float model): the packed convolution is exact for them in
/// every kernel variant, and `BinaryConv2D`'s training forward keeps the float definition.
@Suite("Binary convolution with weights of sign 0")
struct ZeroWeightTests {
    /// O×kH×kW×C latent weights in −1…1 where channel 0 has none of value 0, channel 1 only zeros, and
    /// every third channel from 2 on about a third of them exactly 0.
    static func weights(outputs: Int, kernel: Int, channels: Int, generator: inout SeededGenerator) -> Tensor {
        let perChannel = kernel * kernel * channels
        var w = BinaryTestSupport.signedValues([outputs, kernel, kernel, channels], generator: &generator).scalars
        for o in 1..<outputs where o == 1 || o % 3 == 2 {
            for i in 0..<perChannel where o == 1 || generator.next() % 3 == 0 { w[o * perChannel + i] = 0 }
        }
        return Tensor(shape: [outputs, kernel, kernel, channels], scalars: w)
    }

    /// How many output channels of `w` (O×…) hold a value of sign 0.
    static func channelsWithZeros(_ w: Tensor) -> Int {
        let perChannel = w.count / w.shape[0]
        return (0..<w.shape[0]).filter { o in w.scalars[o * perChannel..<(o + 1) * perChannel].contains(0) }.count
    }

    @Test("every variant equals the float convolution of the signs (sign 0 included) and the reference bit for bit",
          arguments: [3, 48, 64, 100, 128])
    func everyVariantIsExact(channels: Int) throws {
        var generator = SeededGenerator(seed: 12_400 + UInt64(channels))
        var index = 0
        for kernel in [3, 1] {
            for stride in [1, 2] {
                for padding in [0, 1] {
                    let outputs = [9, 24, 64, 70, 128][index % 5]
                    let (batch, size) = (2, [5, 7, 6][index % 3])
                    index += 1
                    let x = BinaryTestSupport.plusMinusOnes([batch, size, size, channels], generator: &generator)
                    let w = Self.weights(outputs: outputs, kernel: kernel, channels: channels, generator: &generator)
                    let packedW = try PackedWeights(packing: w)
                    #expect(packedW.zeroCount == w.scalars.filter { $0 == 0 }.count)
                    let expected = BinaryTestSupport.naiveConvolution(x, BinaryTestSupport.signs(w), stride: stride,
                                                                      padding: padding)
                    let transform = BinaryOutputTransform(scale: packedW.alpha,
                                                          bias: (0..<outputs).map { Float($0 % 5) * 0.1 - 0.2 },
                                                          clamp: -3...3)
                    let packedX = try PackedActivations(packing: x, margin: padding)
                    let label = "C \(channels) O \(outputs) size \(size) kernel \(kernel) stride \(stride) padding \(padding)"
                    let prepared = try PreparedBinaryConvolution(weights: packedW, stride: stride, padding: padding,
                                                                 transform: transform, variant: .reference)
                    #expect(prepared.zeroWeightChannels == Self.channelsWithZeros(w), "\(label)")
                    let reference = try BinaryTestSupport.run(.reference, input: packedX, weights: packedW, stride: stride,
                                                              padding: padding, transform: transform, residual: nil,
                                                              packedMargin: 1, split: index)
                    #expect(reference.dots.map(Float.init) == expected.scalars, "reference vs float: \(label)")
                    for variant in BinaryKernelVariant.optimised {
                        let optimised = try BinaryTestSupport.run(variant, input: packedX, weights: packedW, stride: stride,
                                                                  padding: padding, transform: transform, residual: nil,
                                                                  packedMargin: 1, split: index)
                        #expect(optimised.dots == reference.dots, "dots: \(variant) \(label)")
                        #expect(optimised.values.map(\.bitPattern) == reference.values.map(\.bitPattern),
                                "floats: \(variant) \(label)")
                        #expect(optimised.packed == reference.packed, "packed signs: \(variant) \(label)")
                    }
                }
            }
        }
    }

    @Test("weights without zeros keep no zero tables: the kernels run unchanged")
    func noZerosNoTables() throws {
        var generator = SeededGenerator(seed: 12_401)
        let w = BinaryTestSupport.plusMinusOnes([16, 3, 3, 20], generator: &generator)
        let packedW = try PackedWeights(packing: w)
        #expect(packedW.zeroCount == 0 && packedW.zeroMask.isEmpty)
        let prepared = try PreparedBinaryConvolution(weights: packedW, stride: 1, padding: 1, transform: nil)
        #expect(prepared.zeroWeightChannels == 0)
        #expect(try PackedWeights.signWords(of: w).zeroMask == nil)
    }

    @Test("signs and zero mask from signWords(of:) prepare the same convolution as PackedWeights")
    func signWordsMatchPackedWeights() throws {
        var generator = SeededGenerator(seed: 12_402)
        let (outputs, channels) = (20, 70)
        let x = BinaryTestSupport.plusMinusOnes([1, 6, 6, channels], generator: &generator)
        let w = Self.weights(outputs: outputs, kernel: 3, channels: channels, generator: &generator)
        let (signs, mask) = try PackedWeights.signWords(of: w)
        let mask0 = try #require(mask)
        let packedW = try PackedWeights(packing: w)
        #expect(mask0 == packedW.zeroMask)
        let fromSigns = try PreparedBinaryConvolution(signs: signs, zeroMask: mask, outputChannels: outputs,
                                                      inputChannels: channels, kernelHeight: 3, kernelWidth: 3,
                                                      stride: 1, padding: 1, transform: nil)
        #expect(fromSigns.zeroWeightChannels == Self.channelsWithZeros(w))
        let packedX = try PackedActivations(packing: x, margin: 1)
        let g = fromSigns.geometry(batch: 1, height: 6, width: 6)
        var dots = [Int32](repeating: 0, count: g.outputCount)
        packedX.words.withUnsafeBufferPointer { xs in
            dots.withUnsafeMutableBufferPointer { d in
                _ = fromSigns.run(input: xs.baseAddress!, inputMargin: 1, batch: 1, height: 6, width: 6, residual: nil,
                                  output: nil, packedOutput: nil, outputMargin: 0, dots: d.baseAddress)
            }
        }
        #expect(dots == (try BinaryConvolution.dotProducts(packedX, weights: packedW, stride: 1, padding: 1)))
        let expected = BinaryTestSupport.naiveConvolution(x, BinaryTestSupport.signs(w), stride: 1, padding: 1)
        #expect(dots.map(Float.init) == expected.scalars)
        // A mask of the wrong length, or marking a −1 weight as 0, is refused.
        #expect(throws: BinaryKernelError.self) {
            try PreparedBinaryConvolution(signs: signs, zeroMask: Array(mask0.dropLast()), outputChannels: outputs,
                                          inputChannels: channels, kernelHeight: 3, kernelWidth: 3, stride: 1,
                                          padding: 1, transform: nil)
        }
        #expect(throws: BinaryKernelError.self) {
            try PreparedBinaryConvolution(signs: signs, zeroMask: signs, outputChannels: outputs,
                                          inputChannels: channels, kernelHeight: 3, kernelWidth: 3, stride: 1,
                                          padding: 1, transform: nil)
        }
    }

    @Test("BinaryConv2D's training forward with zero weights equals conv(sign(x), sign(W))·α, sign(0) = 0",
          arguments: [(48, 1, 1), (100, 2, 1), (64, 1, 0)])
    func binaryConv2DForward(channels: Int, stride: Int, padding: Int) throws {
        var generator = SeededGenerator(seed: 12_403 + UInt64(channels))
        let outputs = 24
        let layer = BinaryConv2D(inputChannels: channels, outputChannels: outputs, kernelSize: 3, stride: stride,
                                 padding: padding)
        let w = Self.weights(outputs: outputs, kernel: 3, channels: channels, generator: &generator)
        layer.weight.value = w
        let x = BinaryTestSupport.plusMinusOnes([2, 7, 7, channels], generator: &generator)
            .map { $0 * 0.5 }
        let alpha = layer.outputScale()
        let expected = BinaryTestSupport.naiveConvolution(x.map { $0 > 0 ? 1 : -1 }, BinaryTestSupport.signs(w),
                                                          stride: stride, padding: padding)
            .channelAffine(scale: alpha, shift: [Float](repeating: 0, count: outputs))
        let output = layer.forward(x, mode: .training)
        #expect(output.shape == expected.shape)
        // Exact integer dots times α: equal bit for bit.
        #expect(output.scalars == expected.scalars)
        // The backward pass runs on the same float signs (no error, a gradient for every weight).
        let gradient = layer.backward(Tensor(repeating: 1, shape: output.shape))
        #expect(gradient.shape == x.shape)
    }
}
