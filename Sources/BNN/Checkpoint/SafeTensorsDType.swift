/// The element type of a tensor in a safetensors file, spelled as in the file's JSON header.
///
/// Reading supports every case; ``SafeTensorsWriter`` writes every case as well, converting from
/// `Float` (rounding to nearest even for `F16`/`BF16`) or checking that values are integers in range
/// for the integer types.
public enum SafeTensorsDType: String, Sendable, CaseIterable, Codable {
    /// IEEE 754 binary32, 4 bytes.
    case float32 = "F32"
    /// IEEE 754 binary16 (half precision), 2 bytes.
    case float16 = "F16"
    /// bfloat16 (the upper half of a binary32), 2 bytes.
    case bfloat16 = "BF16"
    /// IEEE 754 binary64, 8 bytes.
    case float64 = "F64"
    /// Signed 64-bit integer, 8 bytes (PyTorch's `int64`, used for `num_batches_tracked`).
    case int64 = "I64"
    /// Signed 32-bit integer, 4 bytes.
    case int32 = "I32"
    /// Unsigned 8-bit integer, 1 byte (also used for packed bit masks).
    case uint8 = "U8"
    /// Boolean, 1 byte; any non-zero byte reads as true.
    case bool = "BOOL"

    /// The size of one element in bytes.
    public var byteSize: Int {
        switch self {
        case .uint8, .bool: return 1
        case .float16, .bfloat16: return 2
        case .float32, .int32: return 4
        case .float64, .int64: return 8
        }
    }

    /// Whether the type is a floating-point format (`F16`, `BF16`, `F32`, `F64`).
    public var isFloatingPoint: Bool {
        switch self {
        case .float32, .float16, .bfloat16, .float64: return true
        case .int64, .int32, .uint8, .bool: return false
        }
    }

    /// The bytes a tensor of `shape` occupies, or `nil` when a dimension is negative or the size
    /// overflows `Int`.
    func byteCount(forShape shape: [Int]) -> Int? {
        CheckedSize.byteCount(shape, bytesPerElement: byteSize)
    }
}
