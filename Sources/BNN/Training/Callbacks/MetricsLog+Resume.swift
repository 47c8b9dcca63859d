import Foundation

extension MetricsLog {
    /// The fields of a record that say where in the run it was written.
    private struct Position: Decodable {
        var type: String
        var epoch: Int?
        var globalStep: Int
        var interrupted: Bool?
        enum CodingKeys: String, CodingKey {
            case type, epoch, interrupted
            case globalStep = "global_step"
        }
    }

    /// Makes the log at `url` agree with `checkpoint`, the checkpoint a run resumes from, before the
    /// run appends to it: records written after the checkpoint (a run killed between its log line and
    /// its save, or one that went on after the resumed checkpoint) are removed, a repeated epoch keeps
    /// its last record, and the checkpoint's own epoch record (``CheckpointWriter/epochReportMetadataKey``)
    /// is added when the log lacks it (a run killed between its save and its log line). Lines that are
    /// not records (one cut short by a crash) are dropped. The file is replaced atomically; a missing
    /// log is left missing.
    ///
    /// - Throws: ``TrainingCallbackError/cannotRead(file:reason:)`` and
    ///   ``TrainingCallbackError/cannotWrite(file:reason:)`` naming the log.
    public static func reconcile(_ url: URL, with checkpoint: Checkpoint) throws {
        guard FileManager.default.fileExists(atPath: url.path) else { return }
        let progress = (try? checkpoint.decodeMetadata(TrainingProgress.self, forKey: Trainer.progressMetadataKey)) ?? TrainingProgress()
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TrainingCallbackError.cannotRead(file: url.path, reason: FileErrorReason.describe(error, path: url.path))
        }
        let decoder = JSONDecoder()
        var kept: [(line: Data, epochRecord: Int?)] = []
        for line in data.split(separator: UInt8(ascii: "\n")) {
            guard let position = try? decoder.decode(Position.self, from: line),
                  position.type == "epoch" || position.type == "step",
                  position.globalStep <= progress.globalStep else { continue }
            var completedEpoch: Int?
            if position.type == "epoch", position.interrupted != true, let epoch = position.epoch {
                guard epoch < progress.epoch else { continue }
                kept.removeAll { $0.epochRecord == epoch }
                completedEpoch = epoch
            }
            kept.append((Data(line), completedEpoch))
        }
        if let text = checkpoint.metadata[CheckpointWriter.epochReportMetadataKey],
           let report = try? recordDecoder().decode(EpochReport.self, from: Data(text.utf8)),
           !report.interrupted, report.divergence == nil, report.epoch == progress.epoch - 1,
           !kept.contains(where: { $0.epochRecord == report.epoch }) {
            kept.append((try makeEncoder().encode(EpochLogRecord(report, progress: progress)), report.epoch))
        }
        var output = Data()
        for record in kept { output.append(record.line); output.append(UInt8(ascii: "\n")) }
        do {
            try AtomicFile.write(to: url) { try $0.write(contentsOf: output) }
        } catch {
            throw TrainingCallbackError.cannotWrite(file: url.path, reason: "\(error)")
        }
    }

    /// The JSON decoder of the records: non-finite numbers from strings, as ``makeEncoder()`` writes them.
    static func recordDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity",
                                                                        negativeInfinity: "-Infinity", nan: "NaN")
        return decoder
    }
}
