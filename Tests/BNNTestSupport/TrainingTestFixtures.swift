import BNN
import Foundation

/// Text written to a ``TrainingOutput``, for inspection.
public final class CapturedText {
    /// Everything written so far.
    public var text = ""

    /// Creates an empty capture.
    public init() {}

    /// An output that appends to ``text``.
    public func output(isTerminal: Bool = false, columns: Int? = nil) -> TrainingOutput {
        TrainingOutput(isTerminal: isTerminal, columns: columns) { self.text += $0 }
    }
}

/// Small, seeded inputs for the tests of the training loop's callbacks, logs and charts.
public enum TrainingTestFixtures {
    /// `count` batches of four 4×4×3 images with labels cycling through three classes.
    public static func batches(seed: UInt64, count: Int = 4) -> [LabeledBatch] {
        var g = SeededGenerator(seed: seed)
        return (0..<count).map { i in
            LabeledBatch(images: Tensor(randomNormal: [4, 4, 4, 3], generator: &g), labels: (0..<4).map { ($0 + i) % 3 })
        }
    }

    /// A fixed epoch report (loss 2.5, accuracy 0.5, validation top-1 0.4 unless `validation` is false).
    public static func epochReport(_ epoch: Int, interrupted: Bool = false, validation: Bool = true) -> EpochReport {
        EpochReport(epoch: epoch, loss: 2.5, accuracy: 0.5, count: 32, skippedSteps: 0, learningRate: 1e-3,
                    imagesPerSecond: 20, seconds: 2,
                    validation: validation ? EvaluationReport(loss: 1.25, top1: 0.4, top5: 0.9, count: 10, imagesPerSecond: 50) : nil,
                    interrupted: interrupted)
    }

    /// A new empty folder under the temporary directory, named `<prefix>-<UUID>`.
    ///
    /// - Throws: the file manager's error when it cannot be created.
    public static func temporaryDirectory(prefix: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
