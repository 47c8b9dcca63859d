import Foundation

/// Collects named tensors and metadata and writes them as one safetensors file, atomically.
///
/// `Float` tensors can be written in any ``SafeTensorsDType``: `F16` and `BF16` round to nearest
/// even, integer dtypes require every value to be an integer the dtype holds. Exact `Int64` values
/// and raw bytes (for packed weights) are written as given. Tensors are laid out by decreasing
/// element size, so every tensor is aligned to its element size in the file (the header is padded to
/// a multiple of 8 bytes), and the JSON keys are sorted, so equal content gives identical files.
///
/// ```swift
/// var writer = SafeTensorsWriter(metadata: ["epoch": "3"])
/// writer.add(weights, named: "fc.weight")
/// writer.add(integers: [1200], shape: [], named: "bn.num_batches_tracked")
/// try writer.write(to: url)
/// ```
public struct SafeTensorsWriter {
    private enum Payload {
        case floats(Tensor)
        case integers([Int64])
        case bytes(Data)
    }

    private struct Entry {
        var name: String
        var dtype: SafeTensorsDType
        var shape: [Int]
        var payload: Payload

        var elementCount: Int { shape.reduce(1, *) }
        /// The number of bytes the payload fills on disk.
        var payloadByteCount: Int {
            switch payload {
            case .floats(let tensor): return tensor.count * dtype.byteSize
            case .integers(let values): return values.count * dtype.byteSize
            case .bytes(let data): return data.count
            }
        }
    }

    /// The elements converted per write call when streaming a tensor to disk.
    private static let chunkElementCount = 1 << 18

    /// The `__metadata__` map written to the header; keys and values are free-form strings.
    public var metadata: [String: String]
    private var entries: [Entry] = []

    /// Creates an empty writer with the given metadata.
    public init(metadata: [String: String] = [:]) {
        self.metadata = metadata
    }

    /// The names added so far, in the order added.
    public var tensorNames: [String] { entries.map(\.name) }

    /// Adds a `Float` tensor, stored with its own shape as `dtype` (default `F32`).
    ///
    /// Conversion happens in ``write(to:)``, which throws
    /// ``SafeTensorsError/valueNotRepresentable(file:tensor:dtype:index:value:)`` when an integer
    /// dtype cannot hold a value.
    public mutating func add(_ tensor: Tensor, named name: String, as dtype: SafeTensorsDType = .float32) {
        entries.append(Entry(name: name, dtype: dtype, shape: tensor.shape, payload: .floats(tensor)))
    }

    /// Adds exact integers, row-major, with the given shape (`[]` for a scalar), stored as an integer
    /// or boolean `dtype` (default `I64`).
    ///
    /// ``write(to:)`` checks that `values.count` matches `shape` and that every value fits `dtype`.
    public mutating func add(integers values: [Int64], shape: [Int], named name: String,
                             as dtype: SafeTensorsDType = .int64) {
        entries.append(Entry(name: name, dtype: dtype, shape: shape, payload: .integers(values)))
    }

    /// Adds raw little-endian bytes stored as they are, declared as `dtype` with `shape`.
    ///
    /// ``write(to:)`` checks that `bytes.count` equals the element count of `shape` times the size of
    /// `dtype`.
    public mutating func add(bytes: Data, shape: [Int], dtype: SafeTensorsDType, named name: String) {
        entries.append(Entry(name: name, dtype: dtype, shape: shape, payload: .bytes(bytes)))
    }

    /// Validates everything, then writes the file atomically: to a temporary file in the same
    /// directory that is renamed over `url` only once complete.
    ///
    /// - Throws: ``SafeTensorsError`` naming `url` and the tensor:
    ///   ``SafeTensorsError/invalidTensorEntry(file:tensor:reason:)`` for an empty or reserved name
    ///   or a negative dimension, ``SafeTensorsError/duplicateTensor(file:tensor:)``,
    ///   ``SafeTensorsError/byteCountMismatch(file:tensor:dtype:shape:expected:found:)`` when the
    ///   values do not fill the shape, ``SafeTensorsError/dtypeMismatch(file:tensor:expected:found:)``
    ///   for integers declared as a floating-point dtype,
    ///   ``SafeTensorsError/valueNotRepresentable(file:tensor:dtype:index:value:)``, and
    ///   ``SafeTensorsError/io(file:operation:reason:)``. On error an existing file at `url` is left
    ///   untouched and no temporary file remains.
    public func write(to url: URL) throws {
        let file = url.path
        try validate(file: file)
        // Stable sort by decreasing element size keeps every tensor aligned to its element size.
        let ordered = entries.enumerated()
            .sorted { ($0.element.dtype.byteSize, -$0.offset) > ($1.element.dtype.byteSize, -$1.offset) }
            .map(\.element)
        let header = try headerData(for: ordered, file: file)
        try AtomicFile.write(to: url) { handle in
            var length = UInt64(header.count).littleEndian
            try handle.write(contentsOf: Data(bytes: &length, count: 8))
            try handle.write(contentsOf: header)
            for entry in ordered { try Self.stream(entry, to: handle, file: file) }
        }
    }

    private func validate(file: String) throws {
        var seen = Set<String>()
        for entry in entries {
            func invalid(_ reason: String) -> SafeTensorsError {
                SafeTensorsError.invalidTensorEntry(file: file, tensor: entry.name, reason: reason)
            }
            guard !entry.name.isEmpty else { throw invalid("tensor names must not be empty") }
            guard entry.name != SafeTensorsHeader.metadataKey else { throw invalid("the name is reserved for metadata") }
            guard seen.insert(entry.name).inserted else { throw SafeTensorsError.duplicateTensor(file: file, tensor: entry.name) }
            guard let expected = entry.dtype.byteCount(forShape: entry.shape) else {
                throw invalid("shape \(entry.shape) has a negative dimension or too many elements")
            }
            if case .integers = entry.payload, entry.dtype.isFloatingPoint {
                throw SafeTensorsError.dtypeMismatch(file: file, tensor: entry.name, expected: "an integer or BOOL dtype for integer values",
                                                     found: entry.dtype)
            }
            let found = entry.payloadByteCount
            guard found == expected else {
                throw SafeTensorsError.byteCountMismatch(file: file, tensor: entry.name, dtype: entry.dtype, shape: entry.shape,
                                                         expected: expected, found: found)
            }
        }
    }

    /// The JSON header padded with spaces to a multiple of 8 bytes.
    private func headerData(for ordered: [Entry], file: String) throws -> Data {
        var root: [String: Any] = [:]
        if !metadata.isEmpty { root[SafeTensorsHeader.metadataKey] = metadata }
        var offset = 0
        for entry in ordered {
            let byteCount = entry.elementCount * entry.dtype.byteSize
            root[entry.name] = ["dtype": entry.dtype.rawValue, "shape": entry.shape, "data_offsets": [offset, offset + byteCount]]
            offset += byteCount
        }
        var data: Data
        do {
            data = try JSONSerialization.data(withJSONObject: root, options: [.sortedKeys, .withoutEscapingSlashes])
        } catch {
            throw SafeTensorsError.io(file: file, operation: "encode the header", reason: error.localizedDescription)
        }
        let padding = (8 - data.count % 8) % 8
        data.append(contentsOf: [UInt8](repeating: UInt8(ascii: " "), count: padding))
        return data
    }

    /// Writes one tensor's bytes, converting at most ``chunkElementCount`` elements at a time.
    private static func stream(_ entry: Entry, to handle: FileHandle, file: String) throws {
        let size = entry.dtype.byteSize
        var chunk = Data(count: min(entry.elementCount, chunkElementCount) * size)
        var start = 0
        while start < entry.elementCount {
            let count = min(chunkElementCount, entry.elementCount - start)
            let bytes = count * size
            let failure: (index: Int, value: Float)? = chunk.withUnsafeMutableBytes { raw in
                let output = UnsafeMutableRawBufferPointer(rebasing: raw[0..<bytes])
                switch entry.payload {
                case .floats(let tensor):
                    return tensor.withUnsafeBufferPointer { all in
                        let values = UnsafeBufferPointer(rebasing: all[start..<(start + count)])
                        return SafeTensorsCodec.encode(values, as: entry.dtype, into: output).map { (start + $0, values[$0]) }
                    }
                case .integers(let integers):
                    return integers.withUnsafeBufferPointer { all in
                        let values = UnsafeBufferPointer(rebasing: all[start..<(start + count)])
                        return SafeTensorsCodec.encode(values, as: entry.dtype, into: output).map { (start + $0, Float(values[$0])) }
                    }
                case .bytes(let data):
                    data.withUnsafeBytes { source in
                        output.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[(start * size)..<(start * size + bytes)]))
                    }
                    return nil
                }
            }
            if let failure {
                throw SafeTensorsError.valueNotRepresentable(file: file, tensor: entry.name, dtype: entry.dtype,
                                                             index: failure.index, value: failure.value)
            }
            try handle.write(contentsOf: chunk.prefix(bytes))
            start += count
        }
    }
}
