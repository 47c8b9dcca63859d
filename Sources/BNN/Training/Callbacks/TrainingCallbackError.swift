import Foundation

/// A file problem met by a training callback. Callbacks report these on their error output rather
/// than stopping training; only the throwing initialisers and readers throw them.
public enum TrainingCallbackError: Error, Equatable, Sendable, CustomStringConvertible, LocalizedError {
    /// A file could not be opened or created.
    case cannotOpen(file: String, reason: String)
    /// A file could not be written, copied or renamed.
    case cannotWrite(file: String, reason: String)
    /// A file could not be read.
    case cannotRead(file: String, reason: String)
    /// A directory could not be created.
    case cannotCreateDirectory(path: String, reason: String)
    /// A new run was asked for in a directory that holds the files of another run.
    case runDirectoryInUse(path: String, files: [String])

    /// The message shown to the user, naming the file and the reason.
    public var description: String {
        switch self {
        case let .cannotOpen(file, reason): return "cannot open '\(file)': \(reason)"
        case let .cannotWrite(file, reason): return "cannot write '\(file)': \(reason)"
        case let .cannotRead(file, reason): return "cannot read '\(file)': \(reason)"
        case let .cannotCreateDirectory(path, reason): return "cannot create the directory '\(path)': \(reason)"
        case let .runDirectoryInUse(path, files):
            return "the run directory '\(path)' already holds a run (\(files.joined(separator: ", "))); "
                + "resume it, choose another directory or overwrite it"
        }
    }

    /// The same text as ``description``.
    public var errorDescription: String? { description }
}
