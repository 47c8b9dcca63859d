import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Saves training checkpoints in a run directory: `last.safetensors` after every epoch — also after
/// an interrupted one, so Ctrl-C leaves a checkpoint ``Trainer/restore(from:)`` resumes mid-epoch —
/// and `best.safetensors` whenever the epoch has the best validation top-1 so far
/// (``TrainingProgress/bestEpoch`` is the epoch; without validation there is no best).
///
/// Both files are written by ``Trainer/saveCheckpoint(to:metadata:)`` with the metadata given here
/// plus the epoch's report as JSON under ``epochReportMetadataKey``. `best.safetensors` is a hard link
/// to the new `last.safetensors` (a copy where links are not supported), so it costs no second write;
/// later saves replace `last.safetensors` by renaming, which leaves the link intact. Errors are
/// reported on the error output and never stop training; a failed save leaves the previous files and
/// is kept in ``failures``, so a program can say which epochs were not saved and exit non-zero, and
/// ``onDiskSummary()`` describes what the files really hold. A diverged epoch
/// (``EpochReport/divergence``) is not saved: the last good checkpoints stay as they are.
///
/// ```swift
/// let writer = try CheckpointWriter(directory: run, metadata: ["config": configJSON, "classes": classesJSON])
/// trainer.callbacks.append(writer)
/// ```
public final class CheckpointWriter: TrainingCallback {
    /// The metadata key of the ``EpochReport`` JSON in checkpoints written here.
    public static let epochReportMetadataKey = "bnn.epoch_report"

    /// The run directory.
    public let directory: URL
    /// Metadata stored in every checkpoint (configuration, class names, …).
    public var metadata: [String: String]
    /// Every save that failed in this run, in order.
    public private(set) var failures: [CheckpointSaveFailure] = []
    private let log: TrainingOutput?
    private let errorOutput: TrainingOutput

    /// The checkpoint of the latest epoch: `<directory>/last.safetensors`.
    public var lastURL: URL { directory.appendingPathComponent("last.safetensors") }
    /// The checkpoint of the best epoch: `<directory>/best.safetensors`.
    public var bestURL: URL { directory.appendingPathComponent("best.safetensors") }

    /// Creates the writer and the run directory (with its parents) if needed.
    ///
    /// - Parameters:
    ///   - directory: The run directory.
    ///   - metadata: Strings stored in every checkpoint; ``Trainer/progressMetadataKey`` and
    ///     ``epochReportMetadataKey`` are set by the writer.
    ///   - log: Where to print one line per save, or `nil` for silence.
    ///   - errorOutput: Where errors are reported; standard error by default.
    /// - Throws: ``TrainingCallbackError/cannotCreateDirectory(path:reason:)``.
    public init(directory: URL, metadata: [String: String] = [:], log: TrainingOutput? = nil,
                errorOutput: TrainingOutput = .standardError) throws {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw TrainingCallbackError.cannotCreateDirectory(path: directory.path, reason: FileErrorReason.describe(error, path: directory.path))
        }
        self.directory = directory
        self.metadata = metadata
        self.log = log
        self.errorOutput = errorOutput
    }

    /// Saves `last.safetensors`, and `best.safetensors` when the epoch is the best so far.
    public func epochDidFinish(_ trainer: Trainer, report: EpochReport) {
        if let divergence = report.divergence {
            errorOutput.write("error: \(divergence); nothing saved, the last good checkpoints in \(directory.path) are untouched\n")
            return
        }
        var fields = metadata
        // The log's encoder writes a diverged (NaN) loss as a string instead of failing.
        fields[Self.epochReportMetadataKey] = (try? MetricsLog.makeEncoder().encode(report)).map { String(decoding: $0, as: UTF8.self) }
        do {
            try trainer.saveCheckpoint(to: lastURL, metadata: fields)
        } catch {
            errorOutput.write("error: checkpoint after epoch \(report.epoch + 1) not saved to \(lastURL.path): \(error)\n")
            failures.append(CheckpointSaveFailure(epoch: report.epoch, file: lastURL.path, reason: "\(error)"))
            return
        }
        let isBest = !report.interrupted && report.validation != nil && trainer.progress.bestEpoch == report.epoch
        if isBest {
            do {
                try replace(bestURL, withLinkTo: lastURL)
            } catch {
                errorOutput.write("error: best checkpoint of epoch \(report.epoch + 1) not saved to \(bestURL.path): \(error)\n")
                failures.append(CheckpointSaveFailure(epoch: report.epoch, file: bestURL.path, reason: "\(error)"))
            }
        }
        let what = report.interrupted ? "interrupted at batch \(trainer.progress.batchInEpoch) of epoch \(report.epoch + 1)"
                                      : "epoch \(report.epoch + 1)"
        log?.write("saved \(what) to \(lastURL.path)" + (isBest ? " and \(bestURL.path)" : "") + "\n")
    }

    /// One line saying what `last.safetensors` and `best.safetensors` hold, read back from the files
    /// (their ``TrainingProgress``), followed by the epochs whose save failed, if any — what the
    /// final line of a program should print instead of assuming the saves worked.
    public func onDiskSummary() -> String {
        func describe(_ url: URL) -> String {
            guard FileManager.default.fileExists(atPath: url.path) else { return "\(url.lastPathComponent): none" }
            guard let progress = try? Checkpoint(contentsOf: url).decodeMetadata(TrainingProgress.self, forKey: Trainer.progressMetadataKey)
            else { return "\(url.lastPathComponent): unreadable" }
            let position = progress.batchInEpoch > 0 ? "epoch \(progress.epoch + 1), batch \(progress.batchInEpoch)"
                                                     : "after epoch \(progress.epoch)"
            return "\(url.lastPathComponent): \(position)"
        }
        var line = "checkpoints in \(directory.path): \(describe(lastURL)); \(describe(bestURL))"
        if !failures.isEmpty {
            let epochs = Array(Set(failures.map { $0.epoch + 1 })).sorted().map(String.init).joined(separator: ", ")
            line += "; NOT saved: epoch \(epochs) (see the errors above)"
        }
        return line
    }

    /// Makes `target` the same file as `source` by linking (or copying) it to a temporary name and
    /// renaming that over `target`, so `target` is never missing or partial.
    ///
    /// - Throws: ``TrainingCallbackError/cannotWrite(file:reason:)``.
    private func replace(_ target: URL, withLinkTo source: URL) throws {
        let temporary = directory.appendingPathComponent(".\(target.lastPathComponent).\(UUID().uuidString).tmp")
        if link(source.path, temporary.path) != 0 {
            do {
                try FileManager.default.copyItem(at: source, to: temporary)
            } catch {
                throw TrainingCallbackError.cannotWrite(file: target.path, reason: FileErrorReason.describe(error, path: target.path))
            }
        }
        guard rename(temporary.path, target.path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary.path)
            throw TrainingCallbackError.cannotWrite(file: target.path, reason: reason)
        }
    }
}

/// A checkpoint save that failed: the epoch (0-based), the file and why.
public struct CheckpointSaveFailure: Sendable, Equatable {
    /// The epoch whose checkpoint was not written (0-based).
    public var epoch: Int
    /// The file that was not written.
    public var file: String
    /// The error.
    public var reason: String
}
