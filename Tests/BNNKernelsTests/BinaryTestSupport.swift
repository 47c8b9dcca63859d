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

    /// Which C convolution entry point to call.
    enum Variant: CaseIterable, CustomStringConvertible {
        case reference, avx2, avx512, neon
        var description: String {
            switch self {
            case .reference: return "reference"
            case .avx2: return "AVX2"
            case .avx512: return "AVX-512"
            case .neon: return "NEON"
            }
        }

        /// Whether this machine can run the variant.
        var isAvailable: Bool {
            switch self {
            case .reference: return true
            #if arch(x86_64)
            case .avx2: return bnn_cpu_detected_features() & BNN_CPU_AVX2_FMA_POPCNT.rawValue != 0
            case .avx512: return bnn_binary_avx512_detected() != 0
            case .neon: return false
            #elseif arch(arm64)
            case .neon: return true
            case .avx2, .avx512: return false
            #else
            case .avx2, .avx512, .neon: return false
            #endif
            }
        }

        /// The optimised variants this machine can run.
        static var optimised: [Variant] { allCases.filter { $0 != .reference && $0.isAvailable } }
    }

    /// Everything one convolution call writes.
    struct Outputs {
        var dots: [Int32]
        var values: [Float]
        var packed: [UInt64]
        var unrepresentable: Int
    }

    /// Runs one variant on all rows, in two calls split at `split` (to exercise row ranges).
    static func run(_ variant: Variant, input: PackedActivations, weights: PackedWeights, stride: Int, padding: Int,
                    transform: BinaryOutputTransform, residual: [Float]?, packedMargin: Int,
                    split: Int) -> Outputs {
        let g = ConvolutionGeometry(batch: input.batch, inputHeight: input.height, inputWidth: input.width,
                                    inputChannels: input.channels, outputChannels: weights.outputChannels,
                                    kernelHeight: weights.kernelHeight, kernelWidth: weights.kernelWidth,
                                    stride: stride, padding: padding)
        var dots = [Int32](repeating: -7, count: g.outputCount)
        var values = [Float](repeating: .nan, count: g.outputCount)
        let wo = (g.outputChannels + 63) / 64
        var packed = [UInt64](repeating: 0, count: g.batch * (g.outputHeight + 2 * packedMargin)
                                                * (g.outputWidth + 2 * packedMargin) * wo)
        var unrepresentable = 0
        let rows = g.batch * g.outputHeight
        let cut = min(max(0, split), rows)
        input.words.withUnsafeBufferPointer { x in
            weights.words.withUnsafeBufferPointer { w in
                weights.tapPopcounts.withUnsafeBufferPointer { pc in
                    transform.scale.withUnsafeBufferPointer { scale in
                        (transform.bias ?? []).withUnsafeBufferPointer { bias in
                            (residual ?? []).withUnsafeBufferPointer { r in
                                dots.withUnsafeMutableBufferPointer { d in
                                    values.withUnsafeMutableBufferPointer { v in
                                        packed.withUnsafeMutableBufferPointer { p in
                                            var params = bnn_binary_conv_params(
                                                batch: Int64(g.batch), height: Int64(g.inputHeight),
                                                width: Int64(g.inputWidth), channels: Int64(g.inputChannels),
                                                out_channels: Int64(g.outputChannels),
                                                kernel_h: Int64(g.kernelHeight), kernel_w: Int64(g.kernelWidth),
                                                stride: Int64(stride), padding: Int64(padding),
                                                out_h: Int64(g.outputHeight), out_w: Int64(g.outputWidth),
                                                input: x.baseAddress, input_margin: Int64(input.margin),
                                                weights: w.baseAddress, tap_popcounts: pc.baseAddress,
                                                dots: d.baseAddress, scale: scale.baseAddress,
                                                bias: transform.bias == nil ? nil : bias.baseAddress,
                                                residual: residual == nil ? nil : r.baseAddress,
                                                clamp: transform.clamp == nil ? 0 : 1,
                                                clamp_lo: transform.clamp?.lowerBound ?? 0,
                                                clamp_hi: transform.clamp?.upperBound ?? 0,
                                                output: v.baseAddress, packed_output: p.baseAddress,
                                                packed_output_margin: Int64(packedMargin))
                                            for (lo, hi) in [(0, cut), (cut, rows)] where lo < hi {
                                                unrepresentable += Int(call(variant, &params, lo, hi))
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return Outputs(dots: dots, values: values, packed: packed, unrepresentable: unrepresentable)
    }

    private static func call(_ variant: Variant, _ params: inout bnn_binary_conv_params, _ lo: Int, _ hi: Int) -> Int64 {
        switch variant {
        #if arch(x86_64)
        case .avx2: return bnn_binary_conv_rows_avx2(&params, Int64(lo), Int64(hi))
        case .avx512: return bnn_binary_conv_rows_avx512(&params, Int64(lo), Int64(hi))
        #elseif arch(arm64)
        case .neon: return bnn_binary_conv_rows_neon(&params, Int64(lo), Int64(hi))
        #endif
        default: return bnn_binary_conv_rows_reference(&params, Int64(lo), Int64(hi))
        }
    }
}
