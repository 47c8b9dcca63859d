import BNN
import Testing

/// Forward, input-gradient and weight-gradient convolution (every available micro-kernel and every
/// code path: direct, tap table, few-pixel, pointwise GEMM, flipped-weight and col2im input gradient) against
/// direct loops summing in double precision.
@Suite struct ConvolutionTests {
    /// One case: channels C → O, square H×W input, k×k kernel (k×`kernelWidth` when given).
    struct Case: CustomTestStringConvertible, Sendable {
        let batch, size, channels, outputs, kernel, stride, padding: Int
        var kernelWidth: Int? = nil
        var geometry: ConvolutionGeometry {
            ConvolutionGeometry(batch: batch, inputHeight: size, inputWidth: size, inputChannels: channels,
                                outputChannels: outputs, kernelHeight: kernel, kernelWidth: kernelWidth ?? kernel,
                                stride: stride, padding: padding)
        }
        var testDescription: String {
            "N\(batch) \(size)²×\(channels)→\(outputs) k\(kernel)×\(kernelWidth ?? kernel) s\(stride) p\(padding)"
        }
    }

    /// Channels 1, 3, 63, 64, 65, 130, 257; sizes 1, 2, 7, 15 (and 30, 58, 260 for wide images);
    /// strides 1, 2; padding 0, 1 (and the stem's 3); kernels 1, 3, 7 and one 3×1; every code path of
    /// `Convolution`. Small enough for naive loops in a debug build.
    static let cases: [Case] = [
        Case(batch: 2, size: 7, channels: 1, outputs: 5, kernel: 3, stride: 1, padding: 1),
        Case(batch: 1, size: 15, channels: 3, outputs: 16, kernel: 7, stride: 2, padding: 3),
        Case(batch: 2, size: 15, channels: 3, outputs: 8, kernel: 3, stride: 1, padding: 0),
        Case(batch: 1, size: 7, channels: 63, outputs: 9, kernel: 3, stride: 1, padding: 1),
        Case(batch: 3, size: 2, channels: 64, outputs: 20, kernel: 3, stride: 2, padding: 1),
        Case(batch: 1, size: 7, channels: 64, outputs: 17, kernel: 3, stride: 1, padding: 1),
        Case(batch: 2, size: 7, channels: 65, outputs: 7, kernel: 1, stride: 2, padding: 0),
        Case(batch: 3, size: 1, channels: 130, outputs: 18, kernel: 1, stride: 1, padding: 0),
        Case(batch: 1, size: 7, channels: 130, outputs: 33, kernel: 3, stride: 2, padding: 1),
        Case(batch: 1, size: 15, channels: 1, outputs: 3, kernel: 7, stride: 1, padding: 1),
        Case(batch: 2, size: 7, channels: 4, outputs: 5, kernel: 1, stride: 1, padding: 1),
        Case(batch: 2, size: 1, channels: 65, outputs: 9, kernel: 3, stride: 1, padding: 1),
        Case(batch: 1, size: 15, channels: 63, outputs: 5, kernel: 7, stride: 2, padding: 1),
        Case(batch: 2, size: 15, channels: 64, outputs: 32, kernel: 1, stride: 1, padding: 0),
        Case(batch: 1, size: 7, channels: 64, outputs: 40, kernel: 3, stride: 1, padding: 1, kernelWidth: 1),
        // kW·C = 63 with K = 441 > 256: the tap-table forward over two K blocks (partial patches).
        Case(batch: 1, size: 7, channels: 9, outputs: 5, kernel: 7, stride: 1, padding: 3),
        // Wide images (output rows of 30, 29 and 260 pixels): many 192-row blocks of the forward GEMM
        // and many pixel blocks of the weight gradient, stride 1 and 2.
        Case(batch: 2, size: 30, channels: 5, outputs: 7, kernel: 3, stride: 1, padding: 1),
        Case(batch: 1, size: 58, channels: 17, outputs: 33, kernel: 3, stride: 2, padding: 1),
        Case(batch: 1, size: 260, channels: 2, outputs: 3, kernel: 3, stride: 1, padding: 1),
        // Small weight gradients over many pixels (3136 and 2700): split over the pixels with a
        // partial gradient per thread when there are two or more threads; channels in whole panels
        // (tap-by-tap patch copies) and not (5).
        Case(batch: 4, size: 28, channels: 16, outputs: 20, kernel: 3, stride: 1, padding: 1),
        Case(batch: 3, size: 30, channels: 5, outputs: 40, kernel: 3, stride: 1, padding: 1),
        // More than 256 input channels: the weight gradient gathers its patches instead of reading
        // them from the padded input.
        Case(batch: 2, size: 5, channels: 257, outputs: 9, kernel: 3, stride: 1, padding: 1),
        // A 7×7 stride-2 stem whose padded rows hold whole pairs (22·3 values): in bfloat16 its
        // short kernel rows of 21 values are read in place with a zero weight step after each.
        Case(batch: 2, size: 16, channels: 3, outputs: 20, kernel: 7, stride: 2, padding: 3),
        // 3 channels at stride 1 (rows of 16·3 values): every other patch starts at an odd position
        // and is read from the copy of the rounded input shifted by one value.
        Case(batch: 3, size: 14, channels: 3, outputs: 16, kernel: 3, stride: 1, padding: 1),
    ]

    /// The three passes computed by direct loops in double precision, with the magnitudes
    /// `Σ|terms|` that bound their rounding errors.
    struct Expected {
        var output, outputMagnitude, inputGradient, inputMagnitude, weightGradient, weightMagnitude: [Double]
    }

    static func naive(_ g: ConvolutionGeometry, x: [Float], w: [Float], dy: [Float], dw0: [Float]) -> Expected {
        let zeroOutput = [Double](repeating: 0, count: g.outputCount)
        let zeroInput = [Double](repeating: 0, count: g.inputCount)
        var e = Expected(output: zeroOutput, outputMagnitude: zeroOutput, inputGradient: zeroInput,
                         inputMagnitude: zeroInput, weightGradient: dw0.map(Double.init),
                         weightMagnitude: dw0.map { abs(Double($0)) })
        let c = g.inputChannels, o = g.outputChannels
        for n in 0..<g.batch {
            for oy in 0..<g.outputHeight {
                for ox in 0..<g.outputWidth {
                    let yBase = ((n * g.outputHeight + oy) * g.outputWidth + ox) * o
                    for ky in 0..<g.kernelHeight {
                        let iy = oy * g.stride - g.padding + ky
                        guard iy >= 0 && iy < g.inputHeight else { continue }
                        for kx in 0..<g.kernelWidth {
                            let ix = ox * g.stride - g.padding + kx
                            guard ix >= 0 && ix < g.inputWidth else { continue }
                            let xBase = ((n * g.inputHeight + iy) * g.inputWidth + ix) * c
                            for oc in 0..<o {
                                let wBase = ((oc * g.kernelHeight + ky) * g.kernelWidth + kx) * c
                                let gy = Double(dy[yBase + oc])
                                var sum = 0.0, magnitude = 0.0
                                for ic in 0..<c {
                                    let xv = Double(x[xBase + ic]), wv = Double(w[wBase + ic])
                                    sum += xv * wv
                                    magnitude += abs(xv * wv)
                                    e.inputGradient[xBase + ic] += gy * wv
                                    e.inputMagnitude[xBase + ic] += abs(gy * wv)
                                    e.weightGradient[wBase + ic] += gy * xv
                                    e.weightMagnitude[wBase + ic] += abs(gy * xv)
                                }
                                e.output[yBase + oc] += sum
                                e.outputMagnitude[yBase + oc] += magnitude
                            }
                        }
                    }
                }
            }
        }
        return e
    }

    /// The worst `|got − exact| / (1e-5 · magnitude + 1e-6)` (≤ 1 passes).
    static func worstError(_ got: [Float], _ exact: [Double], _ magnitude: [Double]) -> Double {
        precondition(got.count == exact.count)
        var worst = 0.0
        for i in got.indices { worst = max(worst, abs(Double(got[i]) - exact[i]) / (1e-5 * magnitude[i] + 1e-6)) }
        return worst
    }

    @Test("forward and both gradients match direct loops for every kernel", arguments: cases)
    func matchesDirectLoops(_ testCase: Case) {
        let g = testCase.geometry
        #expect(g.outputHeight > 0 && g.outputWidth > 0)
        var generator = SeededGenerator(seed: UInt64(g.patchSize * 31 + g.outputChannels))
        let random = { (count: Int) in (0..<count).map { _ in generator.nextUnitFloat() * 2 - 1 } }
        let x = random(g.inputCount), w = random(g.weightCount), dy = random(g.outputCount), dw0 = random(g.weightCount)
        let expected = Self.naive(g, x: x, w: w, dy: dy, dw0: dw0)
        let kernels: [GEMM.Kernel?] = [nil] + GEMM.Kernel.allCases.filter(\.isAvailable).map { $0 }
        for kernel in kernels {
            let label = "\(testCase.testDescription) kernel=\(String(describing: kernel))"
            var y = [Float](repeating: .nan, count: g.outputCount)
            Convolution.forward(input: x, weight: w, output: &y, geometry: g, kernel: kernel)
            #expect(Self.worstError(y, expected.output, expected.outputMagnitude) <= 1, "forward \(label)")
            var dx = [Float](repeating: .nan, count: g.inputCount)
            Convolution.backwardInput(outputGradient: dy, weight: w, inputGradient: &dx, geometry: g, kernel: kernel)
            #expect(Self.worstError(dx, expected.inputGradient, expected.inputMagnitude) <= 1,
                    "input gradient \(label)")
            var dw = dw0
            Convolution.backwardWeight(input: x, outputGradient: dy, weightGradient: &dw, geometry: g,
                                       kernel: kernel)
            #expect(Self.worstError(dw, expected.weightGradient, expected.weightMagnitude) <= 1,
                    "weight gradient \(label)")
        }
    }
}
