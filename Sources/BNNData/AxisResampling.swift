/// Fixed-point coefficients of Pillow's resampling along one axis.
///
/// For bilinear and bicubic, reproduces `precompute_coeffs` and `normalize_coeffs_8bpc` of Pillow's
/// `Resample.c`: the filter's support grows with the downscaling factor (antialiasing), weights are
/// normalised per output pixel, then rounded to 22 fractional bits. For nearest, one tap of weight 1 at
/// the pixel Pillow's `ImagingScaleAffine` picks (its position accumulated in `Double` as Pillow does).
/// Only the outputs in `window` are kept; their input positions are relative to the start of the source
/// extent.
struct AxisResampling {
    /// Pillow's `PRECISION_BITS` for 8-bit images.
    static let precisionBits = 22

    /// The first input pixel read by each kept output (relative to the source start).
    private(set) var first: [Int32]
    /// `taps` weights per kept output, fixed point with ``precisionBits`` fraction bits. Every output reads
    /// exactly `taps` pixels from `first`: Pillow's window is shifted left near the end of the input and
    /// its weights moved with it, the extra taps weighing 0, so kernels run a fixed trip count.
    private(set) var weights: [Int32]
    /// The number of input pixels every output reads.
    let taps: Int
    /// The input pixels any kept output reads.
    let inputRange: Range<Int>

    /// Coefficients resampling `inputSize` pixels, of which the span `box0 ..< box1` (fractional pixels)
    /// maps onto `outputSize` pixels with `filter`; keeps outputs `window`.
    init(inputSize: Int, box0: Float, box1: Float, outputSize: Int, window: Range<Int>,
         filter: ResamplingFilter = .bilinear) {
        precondition(inputSize > 0 && outputSize > 0 && window.lowerBound >= 0 && window.upperBound <= outputSize
                     && !window.isEmpty, "AxisResampling: bad sizes")
        let scale = Double(box1 - box0) / Double(outputSize)
        if filter == .nearest {
            self.init(nearestFrom: inputSize, box0: Double(box0), step: scale, window: window)
        } else {
            self.init(convolving: inputSize, box0: Double(box0), scale: scale, window: window, filter: filter)
        }
    }

    /// Pillow's convolution coefficients (bilinear, bicubic).
    private init(convolving inputSize: Int, box0: Double, scale: Double, window: Range<Int>, filter: ResamplingFilter) {
        let filterScale = max(scale, 1.0)
        let support = filter.support * filterScale
        let maximumTaps = Int(support.rounded(.up)) * 2 + 1
        let taps = min(maximumTaps, inputSize)
        self.taps = taps
        var first = [Int32](), weights = [Int32](repeating: 0, count: window.count * taps)
        first.reserveCapacity(window.count)
        var lowest = Int.max, highest = 0
        var raw = [Double](repeating: 0, count: maximumTaps)
        for (slot, xx) in window.enumerated() {
            let center = box0 + (Double(xx) + 0.5) * scale
            let inverse = 1.0 / filterScale
            let xmin = max(Int(center - support + 0.5), 0)
            let xmax = min(Int(center + support + 0.5), inputSize) - xmin
            var total = 0.0
            for x in 0..<max(xmax, 0) {
                let t = (Double(x + xmin) - center + 0.5) * inverse
                let w = filter.weight(t)
                raw[x] = w
                total += w
            }
            let start = min(xmin, inputSize - taps)
            for x in 0..<max(xmax, 0) {
                let w = total != 0 ? raw[x] / total : raw[x]
                let fixed = w * Double(1 << AxisResampling.precisionBits)
                weights[slot * taps + xmin - start + x] = Int32(w < 0 ? -0.5 + fixed : 0.5 + fixed)
            }
            first.append(Int32(start))
            lowest = min(lowest, start)
            highest = max(highest, start + taps)
        }
        self.first = first
        self.weights = weights
        self.inputRange = lowest..<max(highest, lowest)
    }

    /// One tap per output: Pillow's nearest position `floor(box0 + (x + ½)·step)`, accumulated output by
    /// output as `ImagingScaleAffine` does, clamped into the input.
    private init(nearestFrom inputSize: Int, box0: Double, step: Double, window: Range<Int>) {
        taps = 1
        var first = [Int32](), position = box0 + step * 0.5
        first.reserveCapacity(window.count)
        for x in 0..<window.upperBound {
            if x >= window.lowerBound {
                let pixel = position < 0 ? 0 : min(Int(position), inputSize - 1)
                first.append(Int32(pixel))
            }
            position += step
        }
        self.first = first
        weights = [Int32](repeating: 1 << AxisResampling.precisionBits, count: first.count)
        let lowest = Int(first.min() ?? 0), highest = Int(first.max() ?? 0) + 1
        inputRange = lowest..<highest
    }
}
