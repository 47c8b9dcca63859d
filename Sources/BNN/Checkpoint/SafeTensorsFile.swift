import Foundation

/// A safetensors file opened for reading: the validated header and random access to every tensor.
///
/// The format is an 8-byte little-endian header length `N`, then `N` bytes of UTF-8 JSON mapping each
/// tensor name to `{"dtype", "shape", "data_offsets": [begin, end]}` (offsets relative to the data
/// area that follows the header) plus an optional `"__metadata__"` map of strings, then the raw
/// little-endian data. Opening validates all of it — header length, JSON, metadata, every entry's
/// dtype, shape and byte span, and that the tensors tile the data area exactly without overlap — so
/// later accesses cannot fail on malformed bytes; problems throw ``SafeTensorsError``.
///
/// Tensors are read on demand: ``tensor(_:)`` converts any dtype to a `Float` ``Tensor``,
/// ``integers(_:)`` gives integer and boolean tensors exactly, ``bytes(_:)`` the raw bytes.
public struct SafeTensorsFile: Sendable {
    /// The description of one tensor in the header.
    public struct TensorInfo: Sendable, Equatable {
        /// The tensor's name (a key of the header).
        public let name: String
        /// The element type on disk.
        public let dtype: SafeTensorsDType
        /// The extent of each dimension, outermost first; `[]` for a scalar.
        public let shape: [Int]
        /// The byte range of the tensor within the data area that follows the header.
        public let dataOffsets: Range<Int>

        /// The number of elements (1 for a scalar).
        public var elementCount: Int { shape.reduce(1, *) }
    }

    /// The largest header length accepted, in bytes (the limit of the reference implementation).
    public static let maximumHeaderLength = 100_000_000

    /// The path of the file, or the label given to ``init(data:source:)``; used in error messages.
    public let source: String
    /// The `__metadata__` map of the header (empty when absent).
    public let metadata: [String: String]
    /// Every tensor, in the order of its data in the file.
    public let tensors: [TensorInfo]

    private let indexByName: [String: Int]
    private let storage: Data
    /// The offset of the data area from `storage.startIndex`.
    private let dataStart: Int

    /// Opens and validates the file at `url` (memory-mapped when the system allows it).
    ///
    /// - Throws: ``SafeTensorsError/io(file:operation:reason:)`` when the file cannot be read, and any
    ///   validation error of ``init(data:source:)`` with the file's path as `source`.
    public init(contentsOf url: URL) throws {
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw SafeTensorsError.io(file: url.path, operation: "read the file", reason: FileErrorReason.describe(error, path: url.path))
        }
        try self.init(data: data, source: url.path)
    }

    /// Validates the bytes of a safetensors file held in memory.
    ///
    /// - Parameters:
    ///   - data: The whole file.
    ///   - source: A name for the bytes used in error messages, usually a path.
    /// - Throws: ``SafeTensorsError`` naming `source`, and the tensor where one is involved, when the
    ///   header length, the JSON, the metadata, a dtype, a shape or the data offsets are invalid.
    public init(data: Data, source: String = "<memory>") throws {
        let header = try SafeTensorsHeader(parsing: data, source: source)
        self.source = source
        self.metadata = header.metadata
        self.tensors = header.tensors
        self.indexByName = Dictionary(uniqueKeysWithValues: header.tensors.enumerated().map { ($0.element.name, $0.offset) })
        self.storage = data
        self.dataStart = header.dataStart
    }

    /// The tensor names in the order of their data in the file.
    public var tensorNames: [String] { tensors.map(\.name) }

    /// Whether the file has a tensor of this name.
    public func contains(_ name: String) -> Bool { indexByName[name] != nil }

    /// The header entry of the named tensor.
    ///
    /// - Throws: ``SafeTensorsError/tensorNotFound(file:tensor:)``.
    public func info(_ name: String) throws -> TensorInfo {
        guard let index = indexByName[name] else { throw SafeTensorsError.tensorNotFound(file: source, tensor: name) }
        return tensors[index]
    }

    /// The named tensor converted to `Float`, with the shape stored in the file.
    ///
    /// `F16`, `BF16` and `F32` convert exactly; `F64` rounds to the nearest `Float` (overflowing to
    /// infinity); integers convert to the nearest `Float` (exact up to 2^24); `BOOL` gives 0 or 1.
    /// - Throws: ``SafeTensorsError/tensorNotFound(file:tensor:)``.
    public func tensor(_ name: String) throws -> Tensor {
        let info = try info(name)
        return withBytes(of: info) { bytes in
            Tensor(shape: info.shape, unsafeUninitialized: { output in
                SafeTensorsCodec.decodeFloats(bytes, dtype: info.dtype, into: output)
            })
        }
    }

    /// The elements of an integer or boolean tensor (`I64`, `I32`, `U8`, `BOOL`) as exact `Int64`s,
    /// row-major; the shape is in ``info(_:)``.
    ///
    /// - Throws: ``SafeTensorsError/tensorNotFound(file:tensor:)``, or
    ///   ``SafeTensorsError/dtypeMismatch(file:tensor:expected:found:)`` for a floating-point tensor.
    public func integers(_ name: String) throws -> [Int64] {
        let info = try info(name)
        guard !info.dtype.isFloatingPoint else {
            throw SafeTensorsError.dtypeMismatch(file: source, tensor: name, expected: "an integer or BOOL dtype", found: info.dtype)
        }
        let count = info.elementCount
        return withBytes(of: info) { bytes in
            [Int64](unsafeUninitializedCapacity: count) { buffer, initialized in
                SafeTensorsCodec.decodeIntegers(bytes, dtype: info.dtype, into: buffer)
                initialized = count
            }
        }
    }

    /// The raw little-endian bytes of the named tensor, as stored (for packed weights and other
    /// data that should not pass through `Float`).
    ///
    /// - Throws: ``SafeTensorsError/tensorNotFound(file:tensor:)``.
    public func bytes(_ name: String) throws -> Data {
        let info = try info(name)
        return withBytes(of: info) { Data($0) }
    }

    /// Calls `body` with the bytes of a validated tensor.
    private func withBytes<R>(of info: TensorInfo, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        storage.withUnsafeBytes { all in
            let begin = dataStart + info.dataOffsets.lowerBound
            let end = dataStart + info.dataOffsets.upperBound
            return body(UnsafeRawBufferPointer(rebasing: all[begin..<end]))
        }
    }
}
