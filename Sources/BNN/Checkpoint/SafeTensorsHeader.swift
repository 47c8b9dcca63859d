import Foundation

/// The parsed and validated header of a safetensors file (see ``SafeTensorsFile``).
struct SafeTensorsHeader {
    /// The key of the optional metadata map in the header.
    static let metadataKey = "__metadata__"

    /// The `__metadata__` map (empty when absent).
    let metadata: [String: String]
    /// Every tensor, sorted by data offset; the offsets tile `0..<dataByteCount` exactly.
    let tensors: [SafeTensorsFile.TensorInfo]
    /// The byte offset of the data area from the start of the file.
    let dataStart: Int

    /// Parses and validates the header of the file `data`, checking every entry against the size of
    /// the data area.
    ///
    /// - Throws: ``SafeTensorsError`` naming `source` (and the tensor) for every inconsistency.
    init(parsing data: Data, source: String) throws {
        let byteCount = data.count
        guard byteCount >= 8 else { throw SafeTensorsError.fileTooShort(file: source, byteCount: byteCount) }
        let headerLength = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength <= UInt64(byteCount - 8) else {
            throw SafeTensorsError.headerLengthBeyondFile(file: source, headerLength: headerLength, availableBytes: byteCount - 8)
        }
        guard headerLength <= UInt64(SafeTensorsFile.maximumHeaderLength) else {
            throw SafeTensorsError.headerTooLarge(file: source, headerLength: headerLength, limit: SafeTensorsFile.maximumHeaderLength)
        }
        let dataStart = 8 + Int(headerLength)
        let headerBytes = data.subdata(in: (data.startIndex + 8)..<(data.startIndex + dataStart))
        let root = try Self.parseJSONObject(headerBytes, source: source)

        var metadata: [String: String] = [:]
        var tensors: [SafeTensorsFile.TensorInfo] = []
        let dataByteCount = byteCount - dataStart
        for key in root.keys.sorted() {
            let value = root[key] as Any
            if key == Self.metadataKey {
                metadata = try Self.parseMetadata(value, source: source)
            } else {
                tensors.append(try Self.parseEntry(named: key, value, dataByteCount: dataByteCount, source: source))
            }
        }
        tensors.sort { ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound) < ($1.dataOffsets.lowerBound, $1.dataOffsets.upperBound) }
        var covered = 0
        for tensor in tensors {
            guard tensor.dataOffsets.lowerBound == covered else {
                throw SafeTensorsError.offsetsNotContiguous(file: source, tensor: tensor.name,
                                                            begin: tensor.dataOffsets.lowerBound, expectedBegin: covered)
            }
            covered = tensor.dataOffsets.upperBound
        }
        guard covered == dataByteCount else {
            throw SafeTensorsError.dataNotCovered(file: source, coveredByteCount: covered, dataByteCount: dataByteCount)
        }
        self.metadata = metadata
        self.tensors = tensors
        self.dataStart = dataStart
    }

    private static func parseJSONObject(_ bytes: Data, source: String) throws -> [String: Any] {
        guard bytes.first == UInt8(ascii: "{") else {
            let found = bytes.first.map { "byte 0x" + String($0, radix: 16) } ?? "an empty header"
            throw SafeTensorsError.invalidHeader(file: source, reason: "expected a JSON object starting with '{', found \(found)")
        }
        guard String(data: bytes, encoding: .utf8) != nil else {
            throw SafeTensorsError.invalidHeader(file: source, reason: "header is not valid UTF-8")
        }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: bytes, options: [])
        } catch {
            throw SafeTensorsError.invalidHeader(file: source, reason: "header is not valid JSON (\(error.localizedDescription))")
        }
        guard let root = object as? [String: Any] else {
            throw SafeTensorsError.invalidHeader(file: source, reason: "expected a JSON object, found \(type(of: object))")
        }
        return root
    }

    private static func parseMetadata(_ value: Any, source: String) throws -> [String: String] {
        guard let map = value as? [String: Any] else {
            throw SafeTensorsError.invalidMetadata(file: source, reason: "expected a JSON object, found \(type(of: value))")
        }
        var metadata: [String: String] = [:]
        for (key, item) in map {
            guard let text = item as? String else {
                throw SafeTensorsError.invalidMetadata(file: source, reason: "value of '\(key)' is \(type(of: item)), expected a string")
            }
            metadata[key] = text
        }
        return metadata
    }

    private static func parseEntry(named name: String, _ value: Any, dataByteCount: Int,
                                   source: String) throws -> SafeTensorsFile.TensorInfo {
        func invalid(_ reason: String) -> SafeTensorsError {
            SafeTensorsError.invalidTensorEntry(file: source, tensor: name, reason: reason)
        }
        guard let entry = value as? [String: Any] else { throw invalid("expected a JSON object, found \(type(of: value))") }
        guard let dtypeName = entry["dtype"] as? String else { throw invalid("missing or non-string \"dtype\"") }
        guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
            throw SafeTensorsError.unknownDType(file: source, tensor: name, found: dtypeName)
        }
        guard let shape = naturalNumbers(entry["shape"]) else {
            throw invalid("\"shape\" must be an array of non-negative integers, found \(describe(entry["shape"]))")
        }
        guard let offsets = naturalNumbers(entry["data_offsets"]), offsets.count == 2, offsets[0] <= offsets[1] else {
            throw invalid("\"data_offsets\" must be [begin, end] with 0 <= begin <= end, found \(describe(entry["data_offsets"]))")
        }
        guard let expected = dtype.byteCount(forShape: shape) else {
            throw invalid("shape \(shape) has more elements than can be addressed")
        }
        guard offsets[1] <= dataByteCount else {
            throw SafeTensorsError.offsetsOutOfRange(file: source, tensor: name, begin: offsets[0], end: offsets[1],
                                                     dataByteCount: dataByteCount)
        }
        guard offsets[1] - offsets[0] == expected else {
            throw SafeTensorsError.byteCountMismatch(file: source, tensor: name, dtype: dtype, shape: shape,
                                                     expected: expected, found: offsets[1] - offsets[0])
        }
        return SafeTensorsFile.TensorInfo(name: name, dtype: dtype, shape: shape, dataOffsets: offsets[0]..<offsets[1])
    }

    /// The array of non-negative integers in a JSON value, or `nil` if it is anything else.
    private static func naturalNumbers(_ value: Any?) -> [Int]? {
        guard let items = value as? [Any] else { return nil }
        var numbers: [Int] = []
        numbers.reserveCapacity(items.count)
        for item in items {
            guard !(item is String), let number = item as? Int, number >= 0 else { return nil }
            numbers.append(number)
        }
        return numbers
    }

    private static func describe(_ value: Any?) -> String {
        guard let value else { return "nothing" }
        return String(describing: value)
    }
}
