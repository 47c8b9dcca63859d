import BNN
import BNNKernels

/// Helpers of the binary kernel tests: random ±1 / signed data, a naive float convolution and
/// direct calls of the C entry points with explicit variants.
enum BinaryTestSupport {
    /// Random floats in −1…1, with about `zeroFraction` of them exactly 0.
    static func signedValues(_ shape: [Int], zeroFraction: Float = 0, generator: inout SeededGenerator) -> Tensor {
        Tensor(shape: shape) { out in
            for i in 0..<out.count {
                let u = generator.nextUnitFloat()
                out[i] = u < zeroFraction ? 0 : generator.nextUnitFloat() * 2 - 1
            }
        }
    }

    /// A tensor of ±1 values.
    static func plusMinusOnes(_ shape: [Int], generator: inout SeededGenerator) -> Tensor {
        Tensor(shape: shape) { out in
            for i in 0..<out.count { out[i] = generator.next() & 1 == 0 ? 1 : -1 }
        }
    }

    /// sign(x) of the float model: −1, 0 or +1.
    static func signs(_ t: Tensor) -> Tensor {
        Tensor(shape: t.shape, scalars: t.scalars.map { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) })
    }

    /// Direct float convolution, zero padding, N×H×W×C input, O×kH×kW×C weights, sums in Double.
    static func naiveConvolution(_ x: Tensor, _ w: Tensor, stride: Int, padding: Int) -> Tensor {
        let (n, h, wd, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (o, kh, kw) = (w.shape[0], w.shape[1], w.shape[2])
        let oh = (h + 2 * padding - kh) / stride + 1, ow = (wd + 2 * padding - kw) / stride + 1
        var out = [Float](repeating: 0, count: n * oh * ow * o)
        let xs = x.scalars, ws = w.scalars
        for b in 0..<n {
            for oy in 0..<oh {
                for ox in 0..<ow {
                    for oc in 0..<o {
                        var s: Double = 0
                        for ky in 0..<kh {
                            let iy = oy * stride - padding + ky
                            guard iy >= 0 && iy < h else { continue }
                            for kx in 0..<kw {
                                let ix = ox * stride - padding + kx
                                guard ix >= 0 && ix < wd else { continue }
                                let xb = ((b * h + iy) * wd + ix) * c, wb = ((oc * kh + ky) * kw + kx) * c
                                for ch in 0..<c { s += Double(xs[xb + ch]) * Double(ws[wb + ch]) }
                            }
                        }
                        out[((b * oh + oy) * ow + ox) * o + oc] = Float(s)
                    }
                }
            }
        }
        return Tensor(shape: [n, oh, ow, o], scalars: out)
    }

    /// Everything one convolution call writes.
    struct Outputs {
        var dots: [Int32]
        var values: [Float]
        var packed: [UInt64]
        var unrepresentable: Int
    }

    /// Runs one variant on all rows, in two calls split at `split` (to exercise row ranges).
    static func run(_ variant: BinaryKernelVariant, input: PackedActivations, weights: PackedWeights, stride: Int,
                    padding: Int, transform: BinaryOutputTransform, residual: [Float]?, packedMargin: Int,
                    split: Int) throws -> Outputs {
        let prepared = try PreparedBinaryConvolution(weights: weights, stride: stride, padding: padding,
                                                     transform: transform, variant: variant)
        let g = prepared.geometry(batch: input.batch, height: input.height, width: input.width)
        var dots = [Int32](repeating: -7, count: g.outputCount)
        var values = [Float](repeating: .nan, count: g.outputCount)
        var packed = [UInt64](repeating: 0, count: g.batch * (g.outputHeight + 2 * packedMargin)
                                                * (g.outputWidth + 2 * packedMargin) * binaryWordCount(channels: g.outputChannels))
        var unrepresentable = 0
        let rows = g.batch * g.outputHeight
        let cut = min(max(0, split), rows)
        input.words.withUnsafeBufferPointer { x in
            (residual ?? []).withUnsafeBufferPointer { r in
                dots.withUnsafeMutableBufferPointer { d in
                    values.withUnsafeMutableBufferPointer { v in
                        packed.withUnsafeMutableBufferPointer { p in
                            for (lo, hi) in [(0, cut), (cut, rows)] where lo < hi {
                                unrepresentable += prepared.run(
                                    input: x.baseAddress!, inputMargin: input.margin, batch: g.batch, height: g.inputHeight,
                                    width: g.inputWidth, residual: residual == nil ? nil : r.baseAddress,
                                    output: v.baseAddress, packedOutput: p.baseAddress, outputMargin: packedMargin,
                                    dots: d.baseAddress, rows: lo..<hi)
                            }
                        }
                    }
                }
            }
        }
        return Outputs(dots: dots, values: values, packed: packed, unrepresentable: unrepresentable)
    }
}
