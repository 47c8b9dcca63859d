/// Fixed-point coefficients of Pillow's bilinear resampling along one axis.
///
/// Reproduces `precompute_coeffs` and `normalize_coeffs_8bpc` of Pillow's `Resample.c`: a triangle
/// filter whose support grows with the downscaling factor (antialiasing), weights normalised per output
/// pixel, then rounded to 22 fractional bits. Only the outputs in `window` are kept; their input
/// positions are relative to the start of the source extent.
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
    /// maps onto `outputSize` pixels; keeps outputs `window`.
    init(inputSize: Int, box0: Float, box1: Float, outputSize: Int, window: Range<Int>) {
        precondition(inputSize > 0 && outputSize > 0 && window.lowerBound >= 0 && window.upperBound <= outputSize
                     && !window.isEmpty, "AxisResampling: bad sizes")
        let scale = Double(box1 - box0) / Double(outputSize)
        let filterScale = max(scale, 1.0)
        let support = 1.0 * filterScale
        let maximumTaps = Int(support.rounded(.up)) * 2 + 1
        let taps = min(maximumTaps, inputSize)
        self.taps = taps
        var first = [Int32](), weights = [Int32](repeating: 0, count: window.count * taps)
        first.reserveCapacity(window.count)
        var lowest = Int.max, highest = 0
        var raw = [Double](repeating: 0, count: maximumTaps)
        for (slot, xx) in window.enumerated() {
            let center = Double(box0) + (Double(xx) + 0.5) * scale
            let inverse = 1.0 / filterScale
            let xmin = max(Int(center - support + 0.5), 0)
            let xmax = min(Int(center + support + 0.5), inputSize) - xmin
            var total = 0.0
            for x in 0..<max(xmax, 0) {
                var t = (Double(x + xmin) - center + 0.5) * inverse
                if t < 0 { t = -t }
                let w = t < 1 ? 1 - t : 0
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
}
