import Foundation
import BNN

/// Reading and writing NumPy `.npy` arrays, for exchanging inputs and outputs with Python scripts.
///
/// Reads little-endian `float32`, `float64`, `float16`, `int64`, `int32` and `uint8` arrays in C order
/// (converted to `Float`); writes `float32`. Shapes are kept as stored (an image batch written by
/// PyTorch is N×C×H×W: convert with ``/BNN/Tensor/fromNCHW(_:)``).
public enum NumPyFile {
    /// What can go wrong with an `.npy` file.
    public struct Error: Swift.Error, CustomStringConvertible, Equatable {
        /// The file concerned.
        public var path: String
        /// What was expected and what was found.
        public var reason: String
        /// `"<path>: <reason>"`.
        public var description: String { "\(path): \(reason)" }
    }

    /// Reads an array from `url`.
    ///
    /// - Throws: ``Error`` naming the file when it cannot be read, is not an `.npy` file, is truncated,
    ///   is in Fortran order or has an unsupported dtype.
    public static func read(_ url: URL) throws -> Tensor {
        let path = url.path
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw Error(path: path, reason: "cannot read the file (\(error.localizedDescription))")
        }
        let bytes = [UInt8](data)
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1...5]) == Array("NUMPY".utf8) else {
            throw Error(path: path, reason: "not a NumPy .npy file (magic bytes missing)")
        }
        let major = bytes[6]
        let headerLength: Int, headerStart: Int
        if major == 1 {
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        } else if major == 2 || major == 3 {
            guard bytes.count >= 12 else { throw Error(path: path, reason: "truncated header") }
            headerLength = (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
            headerStart = 12
        } else {
            throw Error(path: path, reason: "unsupported .npy format version \(major)")
        }
        guard headerStart + headerLength <= bytes.count,
              let header = String(bytes: bytes[headerStart..<headerStart + headerLength], encoding: .utf8) else {
            throw Error(path: path, reason: "truncated or unreadable header")
        }
        let descr = try field("descr", in: header, path: path)
        let fortran = try field("fortran_order", in: header, path: path)
        guard fortran.hasPrefix("False") else {
            throw Error(path: path, reason: "Fortran-ordered arrays are not supported; save with np.ascontiguousarray")
        }
        let shapeText = try field("shape", in: header, path: path)
        let shape = try parseShape(shapeText, path: path)
        let count = shape.reduce(1, *)
        let quoted = descr.split(separator: "'", omittingEmptySubsequences: false)
        let dtype = quoted.count >= 2 ? String(quoted[1]) : descr
        let itemSize: Int
        switch dtype {
        case "<f4", "<i4": itemSize = 4
        case "<f8", "<i8": itemSize = 8
        case "<f2": itemSize = 2
        case "|u1", "<u1": itemSize = 1
        default:
            throw Error(path: path, reason: "unsupported dtype \(dtype); expected little-endian float32, float64, float16, int64, int32 or uint8")
        }
        let start = headerStart + headerLength
        guard bytes.count - start == count * itemSize else {
            throw Error(path: path, reason: "shape \(shape) of \(dtype) needs \(count * itemSize) data bytes, found \(bytes.count - start)")
        }
        let scalars: [Float] = bytes.withUnsafeBufferPointer { raw in
            let base = UnsafeRawPointer(raw.baseAddress!) + start
            return (0..<count).map { i -> Float in
                switch dtype {
                case "<f4": return Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
                case "<f8": return Float(Double(bitPattern: UInt64(littleEndian: base.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))))
                case "<f2": return Float(Float16(bitPattern: UInt16(littleEndian: base.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))))
                case "<i8": return Float(Int64(littleEndian: base.loadUnaligned(fromByteOffset: i * 8, as: Int64.self)))
                case "<i4": return Float(Int32(littleEndian: base.loadUnaligned(fromByteOffset: i * 4, as: Int32.self)))
                default: return Float(base.load(fromByteOffset: i, as: UInt8.self))
                }
            }
        }
        return Tensor(shape: shape, scalars: scalars)
    }

    /// Writes `tensor` as a little-endian `float32` array in C order, atomically.
    ///
    /// - Throws: ``Error`` naming the file when it cannot be written.
    public static func write(_ tensor: Tensor, to url: URL) throws {
        let shapeText = tensor.shape.count == 1 ? "(\(tensor.shape[0]),)" : "(" + tensor.shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shapeText), }"
        // Pad with spaces so that the data starts on a 64-byte boundary, ending the header with a newline.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let length = UInt16(header.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(contentsOf: Array(header.utf8))
        tensor.withUnsafeBufferPointer { p in
            for v in p { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        }
        do { try data.write(to: url, options: .atomic) } catch {
            throw Error(path: url.path, reason: "cannot write the file (\(error.localizedDescription))")
        }
    }

    private static func field(_ key: String, in header: String, path: String) throws -> String {
        guard let range = header.range(of: "'\(key)':") else {
            throw Error(path: path, reason: "header has no '\(key)' entry")
        }
        return header[range.upperBound...].trimmingCharacters(in: .whitespaces)
    }

    private static func parseShape(_ text: String, path: String) throws -> [Int] {
        guard let open = text.firstIndex(of: "("), let close = text.firstIndex(of: ")"), open < close else {
            throw Error(path: path, reason: "cannot parse the shape in the header")
        }
        let parts = text[text.index(after: open)..<close].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        var shape: [Int] = []
        for part in parts {
            guard let n = Int(part), n >= 0 else { throw Error(path: path, reason: "bad dimension '\(part)' in the shape") }
            shape.append(n)
        }
        return shape
    }
}
