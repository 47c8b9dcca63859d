import Foundation

/// The one guard of a training run's output folder: it refuses to start a new run over an old one,
/// checks that the folder can be written before any work is done, and removes the temporary files
/// an interrupted save left behind.
///
/// ```swift
/// try RunDirectory.prepare(runURL, for: resuming ? .resume : .newRun)
/// ```
public enum RunDirectory {
    /// What the run will do with the folder.
    public enum Intent: Sendable {
        /// Start a run: the folder must not hold the files of another run.
        case newRun
        /// Continue the run the folder holds.
        case resume
        /// Start a run, deleting the files of the run the folder holds.
        case overwrite
    }

    /// The files a run writes (``CheckpointWriter``, ``MetricsLog``, the training chart), which mark a
    /// folder as holding a run.
    public static let runFileNames = ["last.safetensors", "best.safetensors", "metrics.jsonl", "metrics.svg"]

    /// Creates the folder if needed and checks it for `intent`; removes stray temporary files of
    /// interrupted saves (`.last.safetensors.<id>.tmp` and the like). Returns the names removed.
    ///
    /// - Throws: ``TrainingCallbackError/runDirectoryInUse(path:files:)`` for a new run in a folder
    ///   holding a run; ``TrainingCallbackError/cannotCreateDirectory(path:reason:)`` when the folder
    ///   cannot be created (or is a file); ``TrainingCallbackError/cannotWrite(file:reason:)`` when it
    ///   is not writable or an old file cannot be removed for `.overwrite`.
    @discardableResult
    public static func prepare(_ url: URL, for intent: Intent) throws -> [String] {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        if manager.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw TrainingCallbackError.cannotCreateDirectory(path: url.path, reason: "a file of that name exists")
        }
        do {
            try manager.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw TrainingCallbackError.cannotCreateDirectory(path: url.path, reason: FileErrorReason.describe(error, path: url.path))
        }
        guard manager.isWritableFile(atPath: url.path) else {
            throw TrainingCallbackError.cannotWrite(file: url.path, reason: "the run directory is not writable")
        }
        let present = runFileNames.filter { manager.fileExists(atPath: url.appendingPathComponent($0).path) }
        switch intent {
        case .newRun where !present.isEmpty:
            throw TrainingCallbackError.runDirectoryInUse(path: url.path, files: present)
        case .overwrite:
            for name in present {
                let file = url.appendingPathComponent(name)
                do { try manager.removeItem(at: file) } catch {
                    throw TrainingCallbackError.cannotWrite(file: file.path, reason: FileErrorReason.describe(error, path: file.path))
                }
            }
        default:
            break
        }
        let stray = ((try? manager.contentsOfDirectory(atPath: url.path)) ?? []).filter { name in
            name.hasSuffix(".tmp") && runFileNames.contains { name.hasPrefix(".\($0).") }
        }
        for name in stray { try? manager.removeItem(at: url.appendingPathComponent(name)) }
        return stray.sorted()
    }

}
