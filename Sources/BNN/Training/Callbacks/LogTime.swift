import Foundation

/// Wall-clock timestamps of log records.
enum LogTime {
    /// `date` as ISO 8601 in UTC with milliseconds, e.g. `2026-11-29T01:23:45.678Z`.
    static func string(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}
