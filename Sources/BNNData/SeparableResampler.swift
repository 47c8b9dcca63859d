import CImageKernels

/// Pillow-compatible resizing of 8-bit RGB pixels (`Image.resize(size, filter)` for the filters of
/// ``ResamplingFilter``; the filter lives in the ``AxisResampling`` coefficients).
///
/// Two separable passes as in Pillow: horizontal into an 8-bit intermediate covering only the rows the
/// vertical pass needs, then vertical. Accumulation is in 32-bit fixed point with Pillow's rounding and
/// clipping, so results equal Pillow's byte for byte. The Swift passes here are the portable reference;
/// on CPUs with AVX2 (unless `BNN_KERNELS=reference`) the identical passes of `CImageKernels` run.
enum SeparableResampler {
    /// Which implementation runs.
    enum Kernel {
        /// AVX2 when available, else the reference.
        case automatic
        /// The portable Swift passes.
        case reference
    }

    /// Resamples the source held in `source` into `output`.
    ///
    /// - Parameters:
    ///   - source: RGB rows of the source; `source[0]` is the pixel at (`horizontal.inputRange.lowerBound`,
    ///     `vertical.inputRange.lowerBound`) of the source extent, rows `sourceRowPixels` apart.
    ///   - horizontal, vertical: the axis coefficients; the output is `horizontal.first.count` ×
    ///     `vertical.first.count` pixels.
    ///   - output: `width * height * 3` bytes, written row-major.
    static func resample(source: UnsafePointer<UInt8>, sourceRowPixels: Int, horizontal: AxisResampling,
                         vertical: AxisResampling, output: UnsafeMutablePointer<UInt8>, kernel: Kernel = .automatic) {
        let outWidth = horizontal.first.count
        let rows = vertical.inputRange.count
        let intermediate = UnsafeMutablePointer<UInt8>.allocate(capacity: rows * outWidth * 3)
        defer { intermediate.deallocate() }
        // Input positions relative to the buffers the passes read.
        let hFirst = horizontal.first.map { $0 - Int32(horizontal.inputRange.lowerBound) }
        let vFirst = vertical.first.map { $0 - Int32(vertical.inputRange.lowerBound) }
        if kernel == .automatic && avx2 {
            hFirst.withUnsafeBufferPointer { first in
                horizontal.weights.withUnsafeBufferPointer { weights in
                    bnn_resample_horizontal_avx2(source, sourceRowPixels, Int32(rows), intermediate, Int32(outWidth),
                                                 first.baseAddress, weights.baseAddress, Int32(horizontal.taps))
                }
            }
            vFirst.withUnsafeBufferPointer { first in
                vertical.weights.withUnsafeBufferPointer { weights in
                    bnn_resample_vertical_avx2(intermediate, outWidth * 3, output, Int32(first.count),
                                               first.baseAddress, weights.baseAddress, Int32(vertical.taps))
                }
            }
        } else {
            horizontalPass(source: source, sourceRowPixels: sourceRowPixels, rows: rows, first: hFirst,
                           weights: horizontal.weights, taps: horizontal.taps, output: intermediate)
            verticalPass(source: intermediate, rowBytes: outWidth * 3, first: vFirst, weights: vertical.weights,
                         taps: vertical.taps, output: output)
        }
    }

    /// Whether the AVX2 passes run (checked once).
    static let avx2: Bool = bnn_resample_avx2_available() != 0

    private static let half = Int32(1 << (AxisResampling.precisionBits - 1))
    private static let shift = Int32(AxisResampling.precisionBits)

    private static func horizontalPass(source: UnsafePointer<UInt8>, sourceRowPixels: Int, rows: Int, first: [Int32],
                                       weights: [Int32], taps: Int, output: UnsafeMutablePointer<UInt8>) {
        let outWidth = first.count
        first.withUnsafeBufferPointer { first in
            weights.withUnsafeBufferPointer { weights in
                for row in 0..<rows {
                    let src = source + row * sourceRowPixels * 3
                    let dst = output + row * outWidth * 3
                    for xx in 0..<outWidth {
                        let p = src + Int(first[xx]) * 3
                        let k = weights.baseAddress! + xx * taps
                        var r = half, g = half, b = half
                        for t in 0..<taps {
                            let w = k[t]
                            r &+= Int32(p[3 * t]) &* w
                            g &+= Int32(p[3 * t + 1]) &* w
                            b &+= Int32(p[3 * t + 2]) &* w
                        }
                        dst[xx * 3] = clip8(r >> shift)
                        dst[xx * 3 + 1] = clip8(g >> shift)
                        dst[xx * 3 + 2] = clip8(b >> shift)
                    }
                }
            }
        }
    }

    private static func verticalPass(source: UnsafePointer<UInt8>, rowBytes: Int, first: [Int32], weights: [Int32],
                                     taps: Int, output: UnsafeMutablePointer<UInt8>) {
        let accumulators = UnsafeMutablePointer<Int32>.allocate(capacity: rowBytes)
        defer { accumulators.deallocate() }
        first.withUnsafeBufferPointer { first in
            weights.withUnsafeBufferPointer { weights in
                for yy in 0..<first.count {
                    let k = weights.baseAddress! + yy * taps
                    accumulators.initialize(repeating: half, count: rowBytes)
                    for t in 0..<taps {
                        let w = k[t]
                        let src = source + (Int(first[yy]) + t) * rowBytes
                        for i in 0..<rowBytes { accumulators[i] &+= Int32(src[i]) &* w }
                    }
                    let dst = output + yy * rowBytes
                    for i in 0..<rowBytes { dst[i] = clip8(accumulators[i] >> shift) }
                }
            }
        }
    }

    @inline(__always)
    private static func clip8(_ value: Int32) -> UInt8 {
        UInt8(truncatingIfNeeded: min(max(value, 0), 255))
    }
}
