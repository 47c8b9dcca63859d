/// Float 2-D convolution on N×H×W×C data with O×kH×kW×C weights, by im2col and ``GEMM``:
/// the forward pass and the two backward passes used in training.
public enum Convolution {
    /// Writes the im2col patches of image `image` (OH·OW rows of kH·kW·C values, zero outside the
    /// padded border) into `columns`.
    static func im2col(_ input: UnsafePointer<Float>, image: Int, geometry g: ConvolutionGeometry,
                       columns: UnsafeMutablePointer<Float>) {
        let c = g.inputChannels
        let imageBase = input + image * g.inputHeight * g.inputWidth * c
        Parallel.forEachChunk(g.outputHeight, minimumChunk: 8) { rows in
            for oy in rows {
                for ox in 0..<g.outputWidth {
                    var dst = columns + (oy * g.outputWidth + ox) * g.patchSize
                    for ky in 0..<g.kernelHeight {
                        let iy = oy * g.stride - g.padding + ky
                        for kx in 0..<g.kernelWidth {
                            let ix = ox * g.stride - g.padding + kx
                            if iy < 0 || iy >= g.inputHeight || ix < 0 || ix >= g.inputWidth {
                                dst.update(repeating: 0, count: c)
                            } else {
                                dst.update(from: imageBase + (iy * g.inputWidth + ix) * c, count: c)
                            }
                            dst += c
                        }
                    }
                }
            }
        }
    }

    /// Adds the patch gradients in `columns` back into image `image` of `inputGradient` (col2im).
    static func col2im(_ columns: UnsafePointer<Float>, image: Int, geometry g: ConvolutionGeometry,
                       inputGradient: UnsafeMutablePointer<Float>) {
        let c = g.inputChannels
        let imageBase = inputGradient + image * g.inputHeight * g.inputWidth * c
        for oy in 0..<g.outputHeight {
            for ox in 0..<g.outputWidth {
                var src = columns + (oy * g.outputWidth + ox) * g.patchSize
                for ky in 0..<g.kernelHeight {
                    let iy = oy * g.stride - g.padding + ky
                    for kx in 0..<g.kernelWidth {
                        let ix = ox * g.stride - g.padding + kx
                        if iy >= 0 && iy < g.inputHeight && ix >= 0 && ix < g.inputWidth {
                            let dst = imageBase + (iy * g.inputWidth + ix) * c
                            for ch in 0..<c { dst[ch] += src[ch] }
                        }
                        src += c
                    }
                }
            }
        }
    }

    /// `output = conv(input, weight)`; `output` holds N·OH·OW·O values.
    public static func forward(input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                               output: UnsafeMutablePointer<Float>, geometry g: ConvolutionGeometry) {
        let pixels = g.outputPixels
        if g.kernelHeight == 1 && g.kernelWidth == 1 && g.stride == 1 && g.padding == 0 {
            GEMM.multiplyNT(m: g.batch * pixels, n: g.outputChannels, k: g.inputChannels,
                            a: input, lda: g.inputChannels, b: weight, ldb: g.inputChannels,
                            c: output, ldc: g.outputChannels, accumulate: false)
            return
        }
        let columns = UnsafeMutablePointer<Float>.allocate(capacity: pixels * g.patchSize)
        defer { columns.deallocate() }
        for image in 0..<g.batch {
            im2col(input, image: image, geometry: g, columns: columns)
            GEMM.multiplyNT(m: pixels, n: g.outputChannels, k: g.patchSize,
                            a: columns, lda: g.patchSize, b: weight, ldb: g.patchSize,
                            c: output + image * pixels * g.outputChannels, ldc: g.outputChannels,
                            accumulate: false)
        }
    }

    /// `inputGradient = ∂loss/∂input` from `outputGradient` (overwrites `inputGradient`).
    public static func backwardInput(outputGradient: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                     inputGradient: UnsafeMutablePointer<Float>, geometry g: ConvolutionGeometry) {
        let pixels = g.outputPixels
        if g.kernelHeight == 1 && g.kernelWidth == 1 && g.stride == 1 && g.padding == 0 {
            GEMM.multiplyNN(m: g.batch * pixels, n: g.inputChannels, k: g.outputChannels,
                            a: outputGradient, lda: g.outputChannels, b: weight, ldb: g.inputChannels,
                            c: inputGradient, ldc: g.inputChannels, accumulate: false)
            return
        }
        inputGradient.update(repeating: 0, count: g.inputCount)
        let columns = UnsafeMutablePointer<Float>.allocate(capacity: pixels * g.patchSize)
        defer { columns.deallocate() }
        for image in 0..<g.batch {
            GEMM.multiplyNN(m: pixels, n: g.patchSize, k: g.outputChannels,
                            a: outputGradient + image * pixels * g.outputChannels, lda: g.outputChannels,
                            b: weight, ldb: g.patchSize, c: columns, ldc: g.patchSize, accumulate: false)
            col2im(columns, image: image, geometry: g, inputGradient: inputGradient)
        }
    }

    /// `weightGradient += ∂loss/∂weight` from `input` and `outputGradient`.
    public static func backwardWeight(input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
                                      weightGradient: UnsafeMutablePointer<Float>, geometry g: ConvolutionGeometry) {
        let pixels = g.outputPixels
        if g.kernelHeight == 1 && g.kernelWidth == 1 && g.stride == 1 && g.padding == 0 {
            GEMM.multiplyTN(m: g.outputChannels, n: g.inputChannels, k: g.batch * pixels,
                            a: outputGradient, lda: g.outputChannels, b: input, ldb: g.inputChannels,
                            c: weightGradient, ldc: g.inputChannels, accumulate: true)
            return
        }
        let columns = UnsafeMutablePointer<Float>.allocate(capacity: pixels * g.patchSize)
        defer { columns.deallocate() }
        for image in 0..<g.batch {
            im2col(input, image: image, geometry: g, columns: columns)
            GEMM.multiplyTN(m: g.outputChannels, n: g.patchSize, k: pixels,
                            a: outputGradient + image * pixels * g.outputChannels, lda: g.outputChannels,
                            b: columns, ldb: g.patchSize, c: weightGradient, ldc: g.patchSize, accumulate: true)
        }
    }
}
