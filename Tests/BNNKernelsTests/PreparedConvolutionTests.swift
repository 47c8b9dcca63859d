import BNN
import BNNKernels
import Testing

@Suite("Prepared convolutions")
struct PreparedConvolutionTests {
    @Test("row-major signs blocked in C run like weights packed from floats, on every variant",
          arguments: [(3, 5, 1), (64, 48, 2), (100, 70, 1), (130, 9, 2)])
    func signsEqualPackedWeights(channels: Int, outputs: Int, stride: Int) throws {
        var generator = SeededGenerator(seed: 40 + UInt64(channels))
        let x = Tensor(randomNormal: [2, 6, 7, channels], generator: &generator)
        let w = Tensor(randomNormal: [outputs, 3, 3, channels], generator: &generator)
        let packedX = try PackedActivations(packing: x, margin: 1)
        let packedW = try PackedWeights(packing: w)
        var signs = [UInt64](repeating: 0, count: outputs * 9 * binaryWordCount(channels: channels))
        w.withUnsafeBufferPointer { values in
            signs.withUnsafeMutableBufferPointer { out in
                _ = bnn_binary_pack_signs(values.baseAddress!, Int64(outputs * 9), Int64(channels), out.baseAddress!)
            }
        }
        let transform = BinaryOutputTransform(scale: packedW.alpha, bias: (0..<outputs).map { Float($0) * 0.25 },
                                              clamp: -1...1)
        for variant in [BinaryKernelVariant.reference] + BinaryKernelVariant.optimised {
            let fromWeights = try PreparedBinaryConvolution(weights: packedW, stride: stride, padding: 1,
                                                            transform: transform, variant: variant)
            let fromSigns = try PreparedBinaryConvolution(signs: signs, outputChannels: outputs, inputChannels: channels,
                                                          kernelHeight: 3, kernelWidth: 3, stride: stride, padding: 1,
                                                          transform: transform, variant: variant)
            let g = fromWeights.geometry(batch: 2, height: 6, width: 7)
            func results(_ prepared: PreparedBinaryConvolution) -> (values: [Float], dots: [Int32]) {
                var values = [Float](repeating: .nan, count: g.outputCount)
                var dots = [Int32](repeating: -1, count: g.outputCount)
                _ = packedX.words.withUnsafeBufferPointer { input in
                    values.withUnsafeMutableBufferPointer { v in
                        dots.withUnsafeMutableBufferPointer { d in
                            prepared.run(input: input.baseAddress!, inputMargin: 1, batch: 2, height: 6, width: 7,
                                         output: v.baseAddress, dots: d.baseAddress)
                        }
                    }
                }
                return (values, dots)
            }
            let (a, b) = (results(fromWeights), results(fromSigns))
            #expect(a.dots == b.dots && a.values == b.values, "\(variant), C \(channels), O \(outputs)")
            let reference = try BinaryConvolution.dotProducts(packedX, weights: packedW, stride: stride, padding: 1)
            #expect(a.dots == reference, "\(variant) against BinaryConvolution.dotProducts")
        }
    }

    @Test("preparation rejects a wrong transform, wrong sign count, bad settings and an unavailable kernel")
    func preparationErrors() throws {
        var generator = SeededGenerator(seed: 7)
        let weights = try PackedWeights(packing: Tensor(randomNormal: [4, 3, 3, 5], generator: &generator))
        #expect(throws: BinaryKernelError.shapeMismatch(tensor: "transform.scale", expected: "[4]", found: [3])) {
            try PreparedBinaryConvolution(weights: weights, stride: 1, padding: 1,
                                          transform: BinaryOutputTransform(scale: [1, 1, 1]))
        }
        #expect(throws: BinaryKernelError.invalidSetting(setting: "stride", expected: "≥ 1", found: 0)) {
            try PreparedBinaryConvolution(weights: weights, stride: 0, padding: 1, transform: nil)
        }
        #expect(throws: BinaryKernelError.shapeMismatch(tensor: "signs", expected: "[36] words", found: [35])) {
            try PreparedBinaryConvolution(signs: [UInt64](repeating: 0, count: 35), outputChannels: 4, inputChannels: 5,
                                          kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1, transform: nil)
        }
        if let missing = BinaryKernelVariant.allCases.first(where: { !$0.isAvailable }) {
            #expect(throws: BinaryKernelError.unavailableKernel(missing.description)) {
                try PreparedBinaryConvolution(weights: weights, stride: 1, padding: 1, transform: nil, variant: missing)
            }
        }
        #expect(BinaryKernelVariant.selected.isAvailable)
        #expect(BinaryKernelVariant.selected.rawValue.hasPrefix(String(KernelSelection.binaryFamily.prefix(4))))
    }

    /// `prepared.convolve` on N×H×W×C `input` with a scratch of its own: `outputs` floats.
    private static func run(_ prepared: PreparedFloatConvolution, _ input: [Float], batch: Int, height: Int, width: Int,
                            outputs: Int) -> [Float] {
        var padded = [Float](repeating: 0, count: prepared.paddedCount(batch: batch, height: height, width: width))
        var actual = [Float](repeating: .nan, count: outputs)
        input.withUnsafeBufferPointer { x in
            padded.withUnsafeMutableBufferPointer { p in
                actual.withUnsafeMutableBufferPointer { out in
                    prepared.convolve(x.baseAddress!, batch: batch, height: height, width: width, output: out.baseAddress!,
                                      padded: p.baseAddress)
                }
            }
        }
        return actual
    }

    @Test("the prepared float convolution equals Convolution.forward on every kernel family",
          arguments: [(3, 16, 7, 2, 3), (48, 100, 3, 1, 1), (65, 9, 1, 1, 0), (5, 3, 1, 2, 0)])
    func floatMatchesConvolution(channels: Int, outputs: Int, kernelSize: Int, stride: Int, padding: Int) {
        var generator = SeededGenerator(seed: 90 + UInt64(channels))
        let (h, w) = (9, 11)
        let x = Tensor(randomNormal: [2, h, w, channels], generator: &generator)
        let weight = Tensor(randomNormal: [outputs, kernelSize, kernelSize, channels], generator: &generator)
        let g = ConvolutionGeometry(batch: 2, inputHeight: h, inputWidth: w, inputChannels: channels,
                                    outputChannels: outputs, kernelHeight: kernelSize, kernelWidth: kernelSize,
                                    stride: stride, padding: padding)
        for kernel in GEMM.Kernel.allCases where kernel.isAvailable {
            var expected = [Float](repeating: 0, count: g.outputCount)
            x.withUnsafeBufferPointer { input in
                weight.withUnsafeBufferPointer { wt in
                    expected.withUnsafeMutableBufferPointer { out in
                        Convolution.forward(input: input.baseAddress!, weight: wt.baseAddress!, output: out.baseAddress!,
                                            geometry: g, kernel: kernel)
                    }
                }
            }
            let prepared = PreparedFloatConvolution(outputChannels: outputs, inputChannels: channels,
                                                    kernelSize: kernelSize, stride: stride, padding: padding,
                                                    weight: weight.scalars, bias: nil, kernel: kernel)
            let actual = Self.run(prepared, x.scalars, batch: 2, height: h, width: w, outputs: g.outputCount)
            let worst = zip(actual, expected).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? .infinity
            #expect(worst <= 1e-5, "\(kernel): largest relative difference \(worst)")
        }
    }

    @Test("the prepared float convolution in bfloat16 equals the double-precision convolution of the rounded operands",
          arguments: [(3, 32, 3, 2, 1), (3, 24, 7, 2, 3), (8, 20, 3, 1, 1), (48, 100, 3, 1, 1), (65, 9, 1, 1, 0),
                       (40, 20, 1, 2, 0)])
    func bfloat16MatchesRoundedOperands(channels: Int, outputs: Int, kernelSize: Int, stride: Int, padding: Int) {
        // Width 12 makes whole pairs of every padded row of 3 channels (the 3×3 stride-2 case reads
        // its odd kernel rows in place with a zero weight step), width 11 does not (gathered).
        for w in [11, 12] {
            bfloat16MatchesRoundedOperands(channels: channels, outputs: outputs, kernelSize: kernelSize, stride: stride,
                                           padding: padding, width: w)
        }
    }

    private func bfloat16MatchesRoundedOperands(channels: Int, outputs: Int, kernelSize: Int, stride: Int, padding: Int,
                                                width w: Int) {
        var generator = SeededGenerator(seed: 95 + UInt64(channels))
        let h = 9
        let x = Tensor(randomNormal: [2, h, w, channels], generator: &generator).scalars
        let weight = Tensor(randomNormal: [outputs, kernelSize, kernelSize, channels], generator: &generator).scalars
        let (rx, rw) = (x.map(BFloat16GEMM.rounded), weight.map(BFloat16GEMM.rounded))
        let (oh, ow) = ((h + 2 * padding - kernelSize) / stride + 1, (w + 2 * padding - kernelSize) / stride + 1)
        // Exact products of the rounded operands, summed in double: the kernels differ only in how
        // their single-precision sums round, within K·2⁻²⁴·Σ|terms| (K ≤ 585 here).
        var expected = [Double](repeating: 0, count: 2 * oh * ow * outputs), magnitude = expected
        for n in 0..<2 {
            for oy in 0..<oh {
                for ox in 0..<ow {
                    for o in 0..<outputs {
                        let at = ((n * oh + oy) * ow + ox) * outputs + o
                        for ky in 0..<kernelSize {
                            let iy = oy * stride - padding + ky
                            guard (0..<h).contains(iy) else { continue }
                            for kx in 0..<kernelSize {
                                let ix = ox * stride - padding + kx
                                guard (0..<w).contains(ix) else { continue }
                                for c in 0..<channels {
                                    let term = Double(rx[((n * h + iy) * w + ix) * channels + c])
                                        * Double(rw[((o * kernelSize + ky) * kernelSize + kx) * channels + c])
                                    expected[at] += term
                                    magnitude[at] += abs(term)
                                }
                            }
                        }
                    }
                }
            }
        }
        let prepared = PreparedFloatConvolution(outputChannels: outputs, inputChannels: channels, kernelSize: kernelSize,
                                                stride: stride, padding: padding, weight: weight, bias: nil, precision: .bf16)
        #expect(prepared.precision == .bf16)
        let actual = Self.run(prepared, x, batch: 2, height: h, width: w, outputs: expected.count)
        let k = Double(kernelSize * kernelSize * channels)
        for i in expected.indices {
            #expect(abs(Double(actual[i]) - expected[i]) <= k * 0x1p-24 * magnitude[i] + 1e-30, "width \(w), output \(i)")
        }
    }
}
