import BNN
import BNNKernels

/// The step after the stem convolution: bias, clamp to [−1, 1] and, for the ImageNet stem, the 3×3
/// stride-2 max-pool with −∞ padding, then the signs packed for the first binary convolution.
///
/// The max-pool runs before the bias and the clamp: both are monotone, so they commute with it
/// exactly and touch 4× fewer values. Channels are processed 16 at a time in SIMD registers (the
/// rest one by one).
struct StemEpilogue {
    /// The stem convolution output extent.
    let inputHeight: Int, inputWidth: Int
    /// The output extent (after the pool, or equal to the input without one).
    let outputHeight: Int, outputWidth: Int
    let channels: Int
    let pools: Bool
    /// The zero border of the packed output.
    let margin: Int

    /// Reads N×IH×IW×C raw convolution output, writes N×OH×OW×C activations and their packed signs
    /// (N×(OH+2m)×(OW+2m)×⌈C/64⌉ words, border already zero).
    ///
    /// - Returns: how many activations were exactly 0 (or NaN).
    func run(_ source: UnsafePointer<Float>, batch: Int, bias: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
             packed: UnsafeMutablePointer<UInt64>) -> Int {
        let (oh, ow, c) = (outputHeight, outputWidth, channels)
        let words = binaryWordCount(channels: c)
        let (pw, ph) = (ow + 2 * margin, oh + 2 * margin)
        let zeros = ParallelCounter()
        Parallel.forEachChunk(batch * oh, minimumChunk: max(1, 16_384 / max(1, ow * c))) { rows in
            var count = 0
            for row in rows {
                let n = row / oh, oy = row % oh
                let outRow = output + row * ow * c
                for ox in 0..<ow { pixel(source, n: n, oy: oy, ox: ox, bias: bias, output: outRow + ox * c) }
                count += Int(bnn_binary_pack_signs(outRow, Int64(ow), Int64(c),
                                                   packed + ((n * ph + oy + margin) * pw + margin) * words))
            }
            zeros.add(count)
        }
        return zeros.value
    }

    /// One output pixel: max over the valid taps of its window (or the pixel itself), + bias, clamp.
    @inline(__always)
    private func pixel(_ source: UnsafePointer<Float>, n: Int, oy: Int, ox: Int, bias: UnsafePointer<Float>,
                       output o: UnsafeMutablePointer<Float>) {
        let c = channels
        let (ys, xs) = pools
            ? (max(0, 2 * oy - 1)..<min(inputHeight, 2 * oy + 2), max(0, 2 * ox - 1)..<min(inputWidth, 2 * ox + 2))
            : (oy..<oy + 1, ox..<ox + 1)
        let image = source + n * inputHeight * inputWidth * c
        let lo = SIMD16<Float>(repeating: -1), hi = SIMD16<Float>(repeating: 1)
        var ch = 0
        while ch + 16 <= c {
            var m = SIMD16<Float>(repeating: -.infinity)
            for y in ys {
                for x in xs {
                    let v = UnsafeRawPointer(image + (y * inputWidth + x) * c + ch).loadUnaligned(as: SIMD16<Float>.self)
                    m.replace(with: v, where: v .> m)
                }
            }
            m += UnsafeRawPointer(bias + ch).loadUnaligned(as: SIMD16<Float>.self)
            m.replace(with: lo, where: m .< lo)
            m.replace(with: hi, where: m .> hi)
            UnsafeMutableRawPointer(o + ch).storeBytes(of: m, as: SIMD16<Float>.self)
            ch += 16
        }
        while ch < c {
            var m = -Float.infinity
            for y in ys {
                for x in xs where image[(y * inputWidth + x) * c + ch] > m { m = image[(y * inputWidth + x) * c + ch] }
            }
            o[ch] = Swift.min(Swift.max(m + bias[ch], -1), 1)
            ch += 1
        }
    }
}
