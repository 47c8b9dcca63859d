import Foundation

/// Collects the step reports of one epoch between two ``StepLogRecord``s: a record is due when the
/// global step is a multiple of the interval; a new epoch starts a new window.
public struct StepWindow {
    /// Steps between records (≥ 1).
    public let interval: Int
    private var reports: [StepReport] = []

    /// Creates an empty window that emits a record every `interval` global steps (a programmer error below 1).
    public init(interval: Int) {
        precondition(interval >= 1, "StepWindow: the step interval must be at least 1, got \(interval)")
        self.interval = interval
    }

    /// Drops the steps collected so far.
    public mutating func reset() { reports.removeAll(keepingCapacity: true) }

    /// Adds `report`; returns the record of the window (and starts a new one) when it is due.
    public mutating func add(_ report: StepReport, date: Date = Date()) -> StepLogRecord? {
        reports.append(report)
        guard report.globalStep % interval == 0 else { return nil }
        defer { reset() }
        return StepLogRecord(reports, date: date)
    }
}
