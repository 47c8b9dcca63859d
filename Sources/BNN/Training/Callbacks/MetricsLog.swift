import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Appends training metrics to a JSON Lines file: one ``EpochLogRecord`` per epoch and, when
/// ``stepInterval`` is set, one ``StepLogRecord`` every that many steps.
///
/// An existing file is continued, so a resumed run extends its log (a last line cut short by a crash
/// is ended first, so the new records start on their own lines). Every record is written with one
/// `write` call, so a reader never sees half a line except after a crash. Write errors are reported
/// once on the error output and never stop training.
///
/// ```swift
/// trainer.callbacks.append(try MetricsLog(url: runDirectory.appendingPathComponent("metrics.jsonl"), stepInterval: 100))
/// ```
public final class MetricsLog: TrainingCallback {
    /// The log file.
    public let url: URL
    /// Steps between step records, or `nil` for epoch records only.
    public let stepInterval: Int?
    private let errorOutput: TrainingOutput
    private let descriptor: Int32
    private var window: StepWindow?
    private var reportedError = false

    /// The `"type"` field every record has.
    private struct RecordKind: Decodable { var type: String }

    /// Opens (creating if needed) the log for appending.
    ///
    /// - Parameters:
    ///   - url: The file; its directory must exist.
    ///   - stepInterval: Write a step record every this many steps (≥ 1), or `nil` for none.
    ///   - errorOutput: Where a write error is reported; standard error by default.
    /// - Throws: ``TrainingCallbackError/cannotOpen(file:reason:)`` naming the file.
    public init(url: URL, stepInterval: Int? = nil, errorOutput: TrainingOutput = .standardError) throws {
        precondition(stepInterval.map { $0 >= 1 } ?? true, "MetricsLog: stepInterval must be at least 1")
        self.url = url
        self.stepInterval = stepInterval
        self.errorOutput = errorOutput
        window = stepInterval.map { StepWindow(interval: $0) }
        descriptor = open(url.path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw TrainingCallbackError.cannotOpen(file: url.path, reason: String(cString: strerror(errno)))
        }
        let size = lseek(descriptor, 0, SEEK_END)
        var lastByte: UInt8 = 0
        if size > 0, pread(descriptor, &lastByte, 1, size - 1) == 1, lastByte != UInt8(ascii: "\n") {
            append(Data("\n".utf8))
        }
    }

    deinit { close(descriptor) }

    /// Starts a new window of steps.
    public func epochWillStart(_ trainer: Trainer, epoch: Int, batchCount: Int?) {
        window?.reset()
    }

    /// Writes a step record when one is due.
    public func batchDidFinish(_ trainer: Trainer, report: StepReport) {
        guard let record = window?.add(report) else { return }
        log(record)
    }

    /// Writes the epoch record.
    public func epochDidFinish(_ trainer: Trainer, report: EpochReport) {
        log(EpochLogRecord(report, trainer: trainer))
    }

    /// A record of a log.
    public enum Record: Equatable, Sendable {
        /// An epoch record.
        case epoch(EpochLogRecord)
        /// A step record.
        case step(StepLogRecord)
    }

    /// The records of the log at `url`, in file order. Lines that do not parse as a record (one cut
    /// short by a crash, or written by another program) are skipped.
    ///
    /// - Throws: ``TrainingCallbackError/cannotRead(file:reason:)``.
    public static func records(in url: URL) throws -> [Record] {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw TrainingCallbackError.cannotRead(file: url.path, reason: FileErrorReason.describe(error, path: url.path))
        }
        let decoder = recordDecoder()
        return data.split(separator: UInt8(ascii: "\n")).compactMap { line -> Record? in
            switch (try? decoder.decode(RecordKind.self, from: line))?.type {
            case "epoch": return (try? decoder.decode(EpochLogRecord.self, from: line)).map(Record.epoch)
            case "step": return (try? decoder.decode(StepLogRecord.self, from: line)).map(Record.step)
            default: return nil
            }
        }
    }

    /// The epoch records of the log at `url`, in file order (see ``records(in:)``).
    ///
    /// - Throws: ``TrainingCallbackError/cannotRead(file:reason:)``.
    public static func epochRecords(in url: URL) throws -> [EpochLogRecord] {
        try records(in: url).compactMap { if case .epoch(let record) = $0 { return record } else { return nil } }
    }

    /// The JSON encoder of the records: keys sorted (the same order on every line), non-finite numbers as strings.
    static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity",
                                                                      negativeInfinity: "-Infinity", nan: "NaN")
        return encoder
    }

    private func log<Record: Encodable>(_ record: Record) {
        do {
            var line = try Self.makeEncoder().encode(record)
            line.append(UInt8(ascii: "\n"))
            append(line)
        } catch {
            reportOnce("cannot encode a metrics record: \(error)")
        }
    }

    /// Appends `data` with as few `write` calls as the kernel allows (one, for a line of a log).
    private func append(_ data: Data) {
        data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            guard var address = buffer.baseAddress else { return }
            var remaining = buffer.count
            while remaining > 0 {
                let written = write(descriptor, address, remaining)
                if written < 0 {
                    if errno == EINTR { continue }
                    reportOnce(TrainingCallbackError.cannotWrite(file: url.path, reason: String(cString: strerror(errno))).description)
                    return
                }
                address += written
                remaining -= written
            }
        }
    }

    private func reportOnce(_ message: String) {
        guard !reportedError else { return }
        reportedError = true
        errorOutput.write("warning: metrics log: \(message) (further errors of this log are not shown)\n")
    }
}
