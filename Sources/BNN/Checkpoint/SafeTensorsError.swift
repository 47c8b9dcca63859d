import Foundation

/// A problem reading or writing a safetensors file.
///
/// Every case names the file (its path, or the label given to ``SafeTensorsFile/init(data:source:)``)
/// and, where one is involved, the tensor, and states what was expected and what was found.
public enum SafeTensorsError: Error, Equatable, Sendable, CustomStringConvertible, LocalizedError {
    /// The file could not be read, created, written, synchronised or renamed.
    case io(file: String, operation: String, reason: String)
    /// The file is shorter than the 8-byte little-endian header length that starts every file.
    case fileTooShort(file: String, byteCount: Int)
    /// The header length points beyond the end of the file.
    case headerLengthBeyondFile(file: String, headerLength: UInt64, availableBytes: Int)
    /// The header length exceeds the format's limit (``SafeTensorsFile/maximumHeaderLength``).
    case headerTooLarge(file: String, headerLength: UInt64, limit: Int)
    /// The header is not a UTF-8 JSON object.
    case invalidHeader(file: String, reason: String)
    /// The `__metadata__` entry is not a map from strings to strings.
    case invalidMetadata(file: String, reason: String)
    /// A tensor entry lacks or misstates `dtype`, `shape` or `data_offsets`, or has a reserved name.
    case invalidTensorEntry(file: String, tensor: String, reason: String)
    /// A tensor has a dtype this library does not know.
    case unknownDType(file: String, tensor: String, found: String)
    /// The byte span of a tensor differs from its element count times its element size.
    case byteCountMismatch(file: String, tensor: String, dtype: SafeTensorsDType, shape: [Int], expected: Int, found: Int)
    /// A tensor's `data_offsets` reach outside the data area that follows the header.
    case offsetsOutOfRange(file: String, tensor: String, begin: Int, end: Int, dataByteCount: Int)
    /// A tensor does not start where the previous one (in offset order) ends: the two overlap or
    /// leave a gap.
    case offsetsNotContiguous(file: String, tensor: String, begin: Int, expectedBegin: Int)
    /// The tensors do not cover the data area up to its end.
    case dataNotCovered(file: String, coveredByteCount: Int, dataByteCount: Int)
    /// The file has no tensor of this name.
    case tensorNotFound(file: String, tensor: String)
    /// The tensor's dtype cannot be read or written the requested way.
    case dtypeMismatch(file: String, tensor: String, expected: String, found: SafeTensorsDType)
    /// Two tensors of a file being written have the same name.
    case duplicateTensor(file: String, tensor: String)
    /// A value cannot be stored in the requested integer dtype (not an integer, out of range or NaN).
    case valueNotRepresentable(file: String, tensor: String, dtype: SafeTensorsDType, index: Int, value: Float)

    /// A one-sentence explanation naming the file, the tensor, and what was expected versus found.
    public var description: String {
        switch self {
        case let .io(file, operation, reason):
            return "safetensors '\(file)': cannot \(operation): \(reason)"
        case let .fileTooShort(file, byteCount):
            return "safetensors '\(file)': file has \(byteCount) bytes, expected at least 8 (the header length)"
        case let .headerLengthBeyondFile(file, headerLength, availableBytes):
            return "safetensors '\(file)': header length is \(headerLength) bytes but only \(availableBytes) bytes follow it"
        case let .headerTooLarge(file, headerLength, limit):
            return "safetensors '\(file)': header length is \(headerLength) bytes, expected at most \(limit)"
        case let .invalidHeader(file, reason):
            return "safetensors '\(file)': invalid header: \(reason)"
        case let .invalidMetadata(file, reason):
            return "safetensors '\(file)': invalid __metadata__: \(reason)"
        case let .invalidTensorEntry(file, tensor, reason):
            return "safetensors '\(file)': tensor '\(tensor)': \(reason)"
        case let .unknownDType(file, tensor, found):
            let known = SafeTensorsDType.allCases.map(\.rawValue).joined(separator: ", ")
            return "safetensors '\(file)': tensor '\(tensor)': unknown dtype '\(found)', expected one of \(known)"
        case let .byteCountMismatch(file, tensor, dtype, shape, expected, found):
            return "safetensors '\(file)': tensor '\(tensor)': \(dtype.rawValue) of shape \(shape) needs \(expected) bytes, "
                + "data_offsets span \(found)"
        case let .offsetsOutOfRange(file, tensor, begin, end, dataByteCount):
            return "safetensors '\(file)': tensor '\(tensor)': data_offsets [\(begin), \(end)] outside the data area "
                + "of \(dataByteCount) bytes"
        case let .offsetsNotContiguous(file, tensor, begin, expectedBegin):
            let relation = begin < expectedBegin ? "overlaps the previous tensor" : "leaves a gap after the previous tensor"
            return "safetensors '\(file)': tensor '\(tensor)': data starts at byte \(begin), expected \(expectedBegin) "
                + "(\(relation))"
        case let .dataNotCovered(file, coveredByteCount, dataByteCount):
            return "safetensors '\(file)': tensors cover \(coveredByteCount) bytes of a data area of \(dataByteCount) bytes"
        case let .tensorNotFound(file, tensor):
            return "safetensors '\(file)': no tensor named '\(tensor)'"
        case let .dtypeMismatch(file, tensor, expected, found):
            return "safetensors '\(file)': tensor '\(tensor)': expected \(expected), found \(found.rawValue)"
        case let .duplicateTensor(file, tensor):
            return "safetensors '\(file)': tensor name '\(tensor)' used twice"
        case let .valueNotRepresentable(file, tensor, dtype, index, value):
            return "safetensors '\(file)': tensor '\(tensor)': element \(index) is \(value), "
                + "expected an integer representable as \(dtype.rawValue)"
        }
    }

    /// The same text as ``description``.
    public var errorDescription: String? { description }
}
