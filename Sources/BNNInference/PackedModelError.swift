import Foundation

/// A packed model file that cannot be used: not a packed model, another format version, missing or
/// malformed metadata or tensors, or bytes that do not match their checksum (corruption).
///
/// A file that is not valid safetensors at all (truncated, bad header) fails earlier with the
/// `SafeTensorsError` of `BNN`, which also names the file.
public enum PackedModelError: Error, Equatable, Sendable, CustomStringConvertible, LocalizedError {
    /// The file has no `format` metadata of a packed Bi-Real Net (e.g. a float training checkpoint).
    case notAPackedModel(file: String, found: String?)
    /// The file was written in a format version this library does not read.
    case unsupportedVersion(file: String, found: String, supported: Int)
    /// A metadata entry is missing or has an invalid value.
    case invalidMetadata(file: String, key: String, reason: String)
    /// A tensor is missing, or has another dtype or shape than the architecture requires.
    case invalidTensor(file: String, tensor: String, expected: String, found: String)
    /// The file holds tensors the architecture does not use.
    case unexpectedTensors(file: String, names: [String])
    /// The tensor bytes do not match the checksum written with them: the file is corrupt.
    case checksumMismatch(file: String, expected: String, found: String)

    /// One sentence naming the file, the entry and what was expected versus found.
    public var description: String {
        switch self {
        case let .notAPackedModel(file, found):
            return "\(file): not a packed Bi-Real Net model (metadata 'format' is \(found.map { "'\($0)'" } ?? "missing"), "
                + "expected '\(PackedModel.formatName)'); export a checkpoint with birealnet-export first"
        case let .unsupportedVersion(file, found, supported):
            return "\(file): packed model format version \(found) is not supported (this library reads version \(supported))"
        case let .invalidMetadata(file, key, reason):
            return "\(file): metadata '\(key)' \(reason)"
        case let .invalidTensor(file, tensor, expected, found):
            return "\(file): tensor '\(tensor)' must be \(expected), found \(found)"
        case let .unexpectedTensors(file, names):
            return "\(file): tensors not used by the architecture: \(names.prefix(5).joined(separator: ", "))"
                + (names.count > 5 ? " and \(names.count - 5) more" : "")
        case let .checksumMismatch(file, expected, found):
            return "\(file): tensor data checksum is \(found), the header says \(expected): the file is corrupt"
        }
    }

    /// Same as ``description``.
    public var errorDescription: String? { description }
}
