import Foundation

/// A linear chart axis: the data range widened to round tick values (1, 2, 2.5 or 5 × 10ᵏ apart).
struct ChartScale {
    /// The ends of the axis.
    private(set) var lower: Double
    private(set) var upper: Double
    /// The tick values, from `lower` to `upper`.
    private(set) var ticks: [Double]
    /// The distance between ticks.
    private(set) var step: Double

    /// A scale covering `values` (non-finite ones ignored; none at all gives 0...1).
    ///
    /// - Parameters:
    ///   - targetTicks: About how many intervals to show.
    ///   - integerSteps: Ticks at whole numbers only (epochs).
    ///   - clamp: Bounds the axis never exceeds (accuracy in 0...100).
    init<Values: Sequence>(covering values: Values, targetTicks: Int = 5, integerSteps: Bool = false,
                           clamp: ClosedRange<Double>? = nil) where Values.Element == Double {
        var low = Double.infinity, high = -Double.infinity
        for value in values where value.isFinite {
            low = min(low, value)
            high = max(high, value)
        }
        if low > high { (low, high) = (0, 1) }
        if low == high {
            let pad = low == 0 ? 1 : abs(low) * 0.1
            (low, high) = (low - pad, high + pad)
        }
        if let clamp { (low, high) = (max(low, clamp.lowerBound), min(high, clamp.upperBound)) }
        let rough = (high - low) / Double(max(targetTicks, 1))
        let magnitude = pow(10, (log10(rough)).rounded(.down))
        var step = [1, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= rough * (1 - 1e-9) } ?? 10 * magnitude
        if integerSteps { step = max(1, step.rounded(.up)) }
        var lower = (low / step).rounded(.down) * step
        var upper = (high / step).rounded(.up) * step
        if let clamp { (lower, upper) = (max(lower, clamp.lowerBound), min(upper, clamp.upperBound)) }
        if upper <= lower { upper = lower + step }
        self.lower = lower
        self.upper = upper
        self.step = step
        let count = Int(((upper - lower) / step + 1e-6).rounded(.down))
        ticks = (0...count).map { lower + Double($0) * step }
    }

    /// Maps `value` linearly from the axis onto `start...end` (pixels; `end` may be below `start`).
    func position(_ value: Double, from start: Double, to end: Double) -> Double {
        start + (value - lower) / (upper - lower) * (end - start)
    }

    /// A tick label with as many decimals as the step needs, scientific for very small steps.
    func label(_ value: Double) -> String {
        if abs(value) < step * 1e-6 { return "0" }
        let mantissa = step / pow(10, (log10(step) + 1e-9).rounded(.down))
        let decimals = max(0, Int((-log10(step) - 1e-9).rounded(.up)) + (abs(mantissa - 2.5) < 1e-6 ? 1 : 0))
        guard decimals > 4 else { return String(format: "%.\(decimals)f", value) }
        // Scientific, with the mantissa digits the step needs: 1.002e-3, 9.98e-4.
        let largest = max(abs(lower), abs(upper))
        let digits = max(0, decimals + Int((log10(largest) + 1e-9).rounded(.down)))
        let text = String(format: "%.\(digits)e", value)
        guard let e = text.firstIndex(of: "e"), let exponent = Int(text[text.index(after: e)...]) else { return text }
        return String(text[..<e]) + "e\(exponent)"
    }
}
