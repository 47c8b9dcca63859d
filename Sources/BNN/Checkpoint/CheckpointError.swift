import Foundation

/// A problem matching a checkpoint to a model, or with its training metadata.
///
/// Format problems of the file itself are ``SafeTensorsError``s; these errors are about content:
/// every case names the checkpoint file and the tensor or metadata key, with expected versus found.
public enum CheckpointError: Error, Equatable, Sendable, CustomStringConvertible, LocalizedError {
    /// Strict loading found model tensors absent from the file (model names) and file tensors the
    /// model does not have (checkpoint names, before renaming).
    case tensorSetMismatch(file: String, missing: [String], unexpected: [String])
    /// A tensor's shape differs from the parameter's checkpoint (PyTorch) shape, ``Parameter/diskShape``.
    case shapeMismatch(file: String, tensor: String, checkpointName: String, expected: [Int], found: [Int])
    /// A tensor's dtype is of the wrong kind: floating-point for an integer buffer or the reverse.
    case dtypeMismatch(file: String, tensor: String, checkpointName: String, expected: String, found: SafeTensorsDType)
    /// Two tensors compete for one name: the model lists a parameter name twice, or renaming maps
    /// several checkpoint tensors onto one model name (`sources` lists them).
    case ambiguousName(file: String, tensor: String, sources: [String])
    /// A tensor holds a value no trained model has: NaN or infinity, or a negative variance.
    case invalidValue(file: String, tensor: String, checkpointName: String, reason: String)
    /// A metadata key that was asked for is absent.
    case missingMetadata(file: String, key: String)
    /// A metadata value cannot be decoded, or a reserved key was given by the caller.
    case invalidMetadata(file: String, key: String, reason: String)

    /// A one-sentence explanation naming the file, the tensor or key, and expected versus found.
    public var description: String {
        switch self {
        case let .tensorSetMismatch(file, missing, unexpected):
            var parts: [String] = []
            if !missing.isEmpty { parts.append("missing from the file: \(Self.list(missing))") }
            if !unexpected.isEmpty { parts.append("not in the model: \(Self.list(unexpected))") }
            return "checkpoint '\(file)': tensors do not match the model; " + parts.joined(separator: "; ")
        case let .shapeMismatch(file, tensor, checkpointName, expected, found):
            return "checkpoint '\(file)': tensor '\(tensor)'\(Self.alias(checkpointName, tensor)): expected shape \(expected) "
                + "(PyTorch layout), found \(found)"
        case let .dtypeMismatch(file, tensor, checkpointName, expected, found):
            return "checkpoint '\(file)': tensor '\(tensor)'\(Self.alias(checkpointName, tensor)): expected \(expected), "
                + "found \(found.rawValue)"
        case let .ambiguousName(file, tensor, sources):
            return "checkpoint '\(file)': tensor name '\(tensor)' is claimed by \(Self.list(sources))"
        case let .invalidValue(file, tensor, checkpointName, reason):
            return "checkpoint '\(file)': tensor '\(tensor)'\(Self.alias(checkpointName, tensor)): \(reason)"
        case let .missingMetadata(file, key):
            return "checkpoint '\(file)': no metadata key '\(key)'"
        case let .invalidMetadata(file, key, reason):
            return "checkpoint '\(file)': metadata '\(key)': \(reason)"
        }
    }

    /// The same text as ``description``.
    public var errorDescription: String? { description }

    /// Up to ten quoted names and the count of the rest.
    private static func list(_ names: [String]) -> String {
        let shown = names.prefix(10).map { "'\($0)'" }.joined(separator: ", ")
        return names.count > 10 ? "\(shown) and \(names.count - 10) more" : shown
    }

    private static func alias(_ checkpointName: String, _ tensor: String) -> String {
        checkpointName == tensor ? "" : " (stored as '\(checkpointName)')"
    }
}
