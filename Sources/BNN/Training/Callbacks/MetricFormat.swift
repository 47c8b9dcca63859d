import Foundation

/// The number formats shared by the progress display and the chart, so both read the same.
public enum MetricFormat {
    /// A loss with four decimals, e.g. `2.3456`.
    public static func loss(_ value: Float) -> String { String(format: "%.4f", Double(value)) }

    /// An accuracy in [0, 1] as a percentage with two decimals, e.g. `45.12%`.
    public static func percent(_ value: Float) -> String { String(format: "%.2f%%", Double(value) * 100) }

    /// A learning rate in scientific notation, e.g. `1.00e-03`.
    public static func learningRate(_ value: Double) -> String { String(format: "%.2e", value) }

    /// Images per second: whole numbers from 100 up, one decimal below.
    public static func rate(_ value: Double) -> String { String(format: value >= 100 ? "%.0f" : "%.1f", value) }

    /// A duration in seconds as `m:ss` or `h:mm:ss`.
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "--:--" }
        let total = Int(seconds.rounded())
        let (hours, minutes, secs) = (total / 3600, total / 60 % 60, total % 60)
        return hours > 0 ? String(format: "%d:%02d:%02d", hours, minutes, secs) : String(format: "%d:%02d", minutes, secs)
    }
}
