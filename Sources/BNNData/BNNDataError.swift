/// Errors of the data pipeline. Each names the file or folder at fault and what was expected.
public enum BNNDataError: Error, Equatable, CustomStringConvertible {
    /// The dataset root (or its `train` / `val` split folder) does not exist or is not a folder.
    case missingFolder(path: String)
    /// A split folder holds no class folders.
    case noClasses(path: String)
    /// A class folder holds no file with an image extension (.jpeg, .jpg, .png, any case).
    case emptyClass(path: String)
    /// A validation class folder whose name is not a training class.
    case unknownClass(name: String, path: String)
    /// A file could not be decoded: truncated, empty, not an image or an unsupported variant.
    case badFile(path: String, reason: String)
    /// A file could not be read from disk.
    case unreadableFile(path: String, reason: String)
    /// The class-name file has a line that is not `<folder name><whitespace><display name>`.
    case malformedClassNames(path: String, line: Int)
    /// A shard ran into `limit` bad files in a row while looking for a replacement sample.
    case tooManyBadFiles(limit: Int, lastPath: String)
    /// A loader or transform setting is out of range.
    case invalidConfiguration(String)

    /// A one-line explanation naming the path and the expectation.
    public var description: String {
        switch self {
        case .missingFolder(let path): return "dataset folder not found: \(path) (expected a directory)"
        case .noClasses(let path): return "no class folders in \(path) (expected \(path)/<class>/<images>)"
        case .emptyClass(let path):
            return "class folder \(path) has no images (expected files ending in .jpeg, .jpg or .png)"
        case .unknownClass(let name, let path):
            return "validation class '\(name)' at \(path) is not one of the training classes"
        case .badFile(let path, let reason): return "cannot decode image \(path): \(reason)"
        case .unreadableFile(let path, let reason): return "cannot read \(path): \(reason)"
        case .malformedClassNames(let path, let line):
            return "\(path):\(line): expected '<folder name> <display name>'"
        case .tooManyBadFiles(let limit, let lastPath):
            return "\(limit) bad files in a row (last: \(lastPath)); is the dataset corrupt?"
        case .invalidConfiguration(let text): return "invalid data configuration: \(text)"
        }
    }
}
