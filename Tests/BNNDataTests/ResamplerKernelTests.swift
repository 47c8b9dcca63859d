import BNN
import Testing
@testable import BNNData

@Suite("Resampler kernels")
struct ResamplerKernelTests {
    /// The AVX2 passes equal the Swift reference on odd sizes: up- and downscaling, 1-pixel outputs,
    /// row widths that are not multiples of the 16-byte block, and windows inside the output; for every
    /// filter (bicubic's negative weights exercise the clipping of both passes).
    @Test(.enabled(if: SeparableResampler.avx2)) func avx2MatchesReference() {
        var generator = SeededGenerator(seed: 21)
        let sizes = [1, 2, 5, 63, 65, 130]
        for filter in ResamplingFilter.allCases {
            for width in sizes { for height in sizes {
                let pixels = (0..<(width * height * 3)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
                let outWidth = sizes[generator.nextIndex(below: sizes.count)]
                let outHeight = sizes[generator.nextIndex(below: sizes.count)]
                let wx = generator.nextIndex(below: outWidth), wy = generator.nextIndex(below: outHeight)
                let window = (x: wx..<(wx + 1 + generator.nextIndex(below: outWidth - wx)),
                              y: wy..<(wy + 1 + generator.nextIndex(below: outHeight - wy)))
                let horizontal = AxisResampling(inputSize: width, box0: 0, box1: Float(width), outputSize: outWidth,
                                                window: window.x, filter: filter)
                let vertical = AxisResampling(inputSize: height, box0: 0, box1: Float(height), outputSize: outHeight,
                                              window: window.y, filter: filter)
                var fast = [UInt8](repeating: 0, count: window.x.count * window.y.count * 3)
                var reference = fast
                pixels.withUnsafeBufferPointer { p in
                    let origin = p.baseAddress! + (vertical.inputRange.lowerBound * width + horizontal.inputRange.lowerBound) * 3
                    SeparableResampler.resample(source: origin, sourceRowPixels: width, horizontal: horizontal,
                                                vertical: vertical, output: &fast, kernel: .automatic)
                    SeparableResampler.resample(source: origin, sourceRowPixels: width, horizontal: horizontal,
                                                vertical: vertical, output: &reference, kernel: .reference)
                }
                #expect(fast == reference, "\(filter) \(width)x\(height) -> \(outWidth)x\(outHeight) window \(window)")
            } }
        }
    }
}
