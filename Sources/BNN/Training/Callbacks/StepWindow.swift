import Foundation

/// Collects the step reports of one epoch between two ``StepLogRecord``s: a record is due when the
/// global step is a multiple of the interval; a new epoch starts a new window.
struct StepWindow {
    /// Steps between records (≥ 1).
    let interval: Int
    private var reports: [StepReport] = []

    init(interval: Int) {
        precondition(interval >= 1, "StepWindow: the step interval must be at least 1, got \(interval)")
        self.interval = interval
    }

    /// Drops the steps collected so far.
    mutating func reset() { reports.removeAll(keepingCapacity: true) }

    /// Adds `report`; returns the record of the window (and starts a new one) when it is due.
    mutating func add(_ report: StepReport, date: Date = Date()) -> StepLogRecord? {
        reports.append(report)
        guard report.globalStep % interval == 0 else { return nil }
        defer { reset() }
        return StepLogRecord(reports, date: date)
    }
}
