extension GroupedConvolution {
    /// Direct depthwise convolution (one channel per group) on N×H×W×C data: for every output pixel
    /// and kernel tap, one pass over the C contiguous channels. Weights C×kH×kW×1 are read transposed
    /// to kH×kW×C so that the taps of a channel run are contiguous too. Images are split over the
    /// worker threads; the weight gradient sums per-thread partial sums.
    enum Depthwise {
        static func forward(input: Tensor, weight: Tensor, geometry g: ConvolutionGeometry, channels c: Int) -> Tensor {
            let inputShape = [g.batch, g.inputHeight, g.inputWidth, c]
            precondition(input.shape == inputShape, "GroupedConvolution: input \(input.shape), expected \(inputShape)")
            return accumulateTaps(input, weight: weight, geometry: g, channels: c, adjoint: false)
        }

        static func backwardInput(outputGradient: Tensor, weight: Tensor, geometry g: ConvolutionGeometry,
                                  channels c: Int) -> Tensor {
            accumulateTaps(outputGradient, weight: weight, geometry: g, channels: c, adjoint: true)
        }

        /// The convolution (`out[pixel] += x[tap]·w`) or, `adjoint`, its transpose
        /// (`dx[tap] += dy[pixel]·w`), which scatters into the input of each image only.
        private static func accumulateTaps(_ source: Tensor, weight: Tensor, geometry g: ConvolutionGeometry, channels c: Int,
                                           adjoint: Bool) -> Tensor {
            let taps = transposedTaps(weight, g, channels: c)
            let shape = adjoint ? [g.batch, g.inputHeight, g.inputWidth, c] : [g.batch, g.outputHeight, g.outputWidth, c]
            return Tensor(shape: shape) { target in
                target.initialize(repeating: 0)
                source.withUnsafeBufferPointer { x in
                    taps.withUnsafeBufferPointer { w in
                        Parallel.forEachChunk(g.batch) { images in
                            for n in images {
                                forEachTap(g, image: n, channels: c) { inputOffset, outputOffset, tapOffset in
                                    let (from, to) = adjoint ? (outputOffset, inputOffset) : (inputOffset, outputOffset)
                                    for j in 0..<c { target[to + j] += x[from + j] * w[tapOffset + j] }
                                }
                            }
                        }
                    }
                }
            }
        }

        static func backwardWeight(input: Tensor, outputGradient: Tensor, geometry g: ConvolutionGeometry,
                                   channels c: Int) -> Tensor {
            let tapCount = g.kernelHeight * g.kernelWidth
            let chunks = Swift.min(Parallel.threadCount, Swift.max(1, g.batch))
            var partials = [Float](repeating: 0, count: chunks * tapCount * c)
            input.withUnsafeBufferPointer { x in
                outputGradient.withUnsafeBufferPointer { dy in
                    partials.withUnsafeMutableBufferPointer { sums in
                        let sums = sums
                        Parallel.forEachChunk(chunks) { range in
                            for chunk in range {
                                let base = chunk * tapCount * c
                                for n in g.batch * chunk / chunks..<g.batch * (chunk + 1) / chunks {
                                    forEachTap(g, image: n, channels: c) { inputOffset, outputOffset, tapOffset in
                                        for j in 0..<c { sums[base + tapOffset + j] += x[inputOffset + j] * dy[outputOffset + j] }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            // Sum the partials (kH×kW×C) and transpose to C×kH×kW×1.
            var gradient = [Float](repeating: 0, count: tapCount * c)
            for chunk in 0..<chunks {
                for t in 0..<tapCount {
                    for j in 0..<c { gradient[j * tapCount + t] += partials[(chunk * tapCount + t) * c + j] }
                }
            }
            return Tensor(shape: [c, g.kernelHeight, g.kernelWidth, 1], scalars: gradient)
        }

        /// The C×kH×kW×1 weights as kH×kW×C.
        private static func transposedTaps(_ weight: Tensor, _ g: ConvolutionGeometry, channels c: Int) -> [Float] {
            let tapCount = g.kernelHeight * g.kernelWidth
            precondition(weight.count == tapCount * c, "GroupedConvolution: depthwise weight \(weight.shape)")
            return weight.withUnsafeBufferPointer { w in
                var result = [Float](repeating: 0, count: tapCount * c)
                for j in 0..<c { for t in 0..<tapCount { result[t * c + j] = w[j * tapCount + t] } }
                return result
            }
        }

        /// Calls `body(inputOffset, outputOffset, tapOffset)` for every output pixel of image `n` and
        /// every kernel tap that falls inside the input (padded taps contribute zero).
        @inline(__always)
        private static func forEachTap(_ g: ConvolutionGeometry, image n: Int, channels c: Int,
                                       _ body: (Int, Int, Int) -> Void) {
            for oy in 0..<g.outputHeight {
                for ox in 0..<g.outputWidth {
                    let outputOffset = ((n * g.outputHeight + oy) * g.outputWidth + ox) * c
                    for ky in 0..<g.kernelHeight {
                        let iy = oy * g.stride - g.padding + ky
                        guard iy >= 0 && iy < g.inputHeight else { continue }
                        for kx in 0..<g.kernelWidth {
                            let ix = ox * g.stride - g.padding + kx
                            guard ix >= 0 && ix < g.inputWidth else { continue }
                            body(((n * g.inputHeight + iy) * g.inputWidth + ix) * c, outputOffset,
                                 (ky * g.kernelWidth + kx) * c)
                        }
                    }
                }
            }
        }
    }
}
