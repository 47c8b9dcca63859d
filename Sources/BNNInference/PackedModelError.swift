import Foundation

/// A `.bnnpack` file that cannot be used: not a packed model, another format version, missing or
/// malformed metadata, a graph step or tensor that does not fit, or bytes that do not match their
/// checksum (corruption). The format is specified in <doc:PackedModelFormat>.
///
/// A file that is not valid safetensors at all (truncated, bad header) fails earlier with the
/// `SafeTensorsError` of `BNN`, which also names the file.
public enum PackedModelError: Error, Equatable, Sendable, CustomStringConvertible, LocalizedError {
    /// The file has no `format` metadata of a packed model and is not a float checkpoint either.
    case notAPackedModel(file: String, found: String?)
    /// The file is a float training checkpoint (tensors such as `conv1.weight`, no packed `format`).
    case floatCheckpoint(file: String)
    /// The file has the format of BNN's first packed models, `bnn-packed-birealnet` version 1.
    case formerFormat(file: String)
    /// The file was written in a format version this library does not read.
    case unsupportedVersion(file: String, found: String, supported: Int)
    /// A metadata entry is missing or has an invalid value.
    case invalidMetadata(file: String, key: String, reason: String)
    /// A step of the graph lacks an attribute, has one out of range, or does not fit its input
    /// (`step` is its index path, `steps[5].body[0]`, as in ``PlanError``).
    case invalidStep(file: String, step: String, reason: String)
    /// A tensor named by the graph is missing, or has another dtype, shape or content than its step requires.
    case invalidTensor(file: String, tensor: String, expected: String, found: String)
    /// A float tensor holds a NaN or an infinity.
    case nonFiniteValue(file: String, tensor: String, index: Int, value: Float)
    /// The file holds tensors the graph does not name.
    case unexpectedTensors(file: String, names: [String])
    /// The tensors or metadata do not match the checksum written with them: the file is corrupt.
    case checksumMismatch(file: String, expected: String, found: String)

    /// One sentence naming the file, the entry and what was expected versus found.
    public var description: String {
        switch self {
        case let .notAPackedModel(file, found):
            return "\(file) is not a packed model (metadata 'format' is \(found.map { "'\($0)'" } ?? "missing"), "
                + "expected '\(PackedModel.formatName)')"
        case let .floatCheckpoint(file):
            return "\(file) is a float checkpoint, not a packed model; export it with birealnet-export first"
        case let .formerFormat(file):
            return "\(file) was written by an earlier BNN (format bnn-packed-birealnet version 1, Bi-Real Net only); "
                + "re-export it from its checkpoint with birealnet-export"
        case let .unsupportedVersion(file, found, supported):
            return "\(file) has packed model format version '\(found)'; this library reads version \(supported)"
        case let .invalidMetadata(file, key, reason):
            return "\(file): metadata '\(key)' \(reason)"
        case let .invalidStep(file, step, reason):
            return "\(file): graph step \(step): \(reason)"
        case let .invalidTensor(file, tensor, expected, found):
            return "\(file): tensor '\(tensor)' must be \(expected), found \(found)"
        case let .nonFiniteValue(file, tensor, index, value):
            return "\(file): tensor '\(tensor)' holds \(value) at element \(index); the values of a packed model must be finite"
        case let .unexpectedTensors(file, names):
            return "\(file): tensors not named by the graph: \(names.prefix(5).joined(separator: ", "))"
                + (names.count > 5 ? " and \(names.count - 5) more" : "")
        case let .checksumMismatch(file, expected, found):
            return "\(file): the tensors and metadata have checksum \(found), the file says \(expected): the file is corrupt"
        }
    }

    /// Same as ``description``.
    public var errorDescription: String? { description }
}
