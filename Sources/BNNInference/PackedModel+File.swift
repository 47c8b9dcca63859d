import BNN
import Foundation

extension PackedModel {
    /// The `format` of the files of BNN's first packed models (Bi-Real Net only), refused with a
    /// request to re-export.
    static let formerFormatName = "bnn-packed-birealnet"
    /// The optional metadata entry of ``preprocessing``, a JSON object of strings.
    public static let preprocessingMetadataKey = "preprocessing"

    /// Writes the model as a `.bnnpack` file (format version 2, specified in <doc:PackedModelFormat>),
    /// atomically: an existing file at `url` is replaced only once the new one is complete.
    ///
    /// - Throws: ``PackedModelError/nonFiniteValue(file:tensor:index:value:)`` when an array holds a
    ///   NaN or an infinity (the file could not be read back), ``PackedModelError/invalidStep(file:step:reason:)``
    ///   for infinite clamp bounds, `SafeTensorsError.io` when the file cannot be written.
    public func write(to url: URL) throws {
        var encoder = PackedGraphEncoder(file: url.path)
        let graph = try encoder.nodes(for: steps, path: "steps")
        let json = JSONEncoder()
        json.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var metadata = [
            "format": Self.formatName,
            "format_version": String(Self.formatVersion),
            "input_height": String(inputHeight),
            "input_width": String(inputWidth),
            "input_channels": String(inputChannels),
            "architecture": architecture,
            "class_names": String(decoding: try json.encode(classNames), as: UTF8.self),
            "graph": String(decoding: try json.encode(graph), as: UTF8.self),
        ]
        if !preprocessing.isEmpty {
            metadata[Self.preprocessingMetadataKey] = String(decoding: try json.encode(preprocessing), as: UTF8.self)
        }
        metadata["checksum"] = Self.checksum(metadata: metadata, tensors: encoder.tensors.map { ($0.name, $0.bytes) })
        var writer = SafeTensorsWriter(metadata: metadata)
        for tensor in encoder.tensors {
            writer.add(bytes: tensor.bytes, shape: tensor.shape, dtype: tensor.dtype, named: tensor.name)
        }
        try writer.write(to: url)
    }

    /// Reads and validates a `.bnnpack` file.
    ///
    /// - Throws: `SafeTensorsError` (naming the file) when it is not valid safetensors, e.g. truncated;
    ///   ``PackedModelError`` naming the file and the entry when it is not a packed model (a float
    ///   checkpoint, a version 1 file), has another format version, a checksum mismatch, invalid
    ///   metadata, a graph step or tensor that does not fit, or tensors the graph does not name.
    public init(contentsOf url: URL) throws {
        try self.init(file: SafeTensorsFile(contentsOf: url))
    }

    /// Reads and validates a packed model from an opened safetensors file; see ``init(contentsOf:)``.
    ///
    /// No bytes make it trap: every integer is range-checked, nesting is bounded, every tensor's dtype
    /// and shape must match its step and every float must be finite, before the plan is checked by
    /// ``init(steps:inputHeight:inputWidth:inputChannels:classNames:architecture:preprocessing:)``.
    public init(file: SafeTensorsFile) throws {
        let source = file.source, metadata = file.metadata
        func invalid(_ key: String, _ reason: String) -> PackedModelError {
            .invalidMetadata(file: source, key: key, reason: reason)
        }
        func value(_ key: String) throws -> String {
            guard let value = metadata[key] else { throw invalid(key, "is missing") }
            return value
        }
        func extent(_ key: String) throws -> Int {
            let text = try value(key)
            guard let value = Int(text), (1...PackedGraphDecoder.maximumExtent).contains(value) else {
                throw invalid(key, "must be an integer in 1...\(PackedGraphDecoder.maximumExtent), found '\(text)'")
            }
            return value
        }
        func decoded<T: Decodable>(_ key: String, as type: T.Type, _ what: String) throws -> T {
            let text = try value(key)
            do {
                return try JSONDecoder().decode(type, from: Data(text.utf8))
            } catch let error as DecodingError {
                throw invalid(key, "is not \(what) (\(Self.describe(error)))")
            }
        }

        try Self.checkFormat(of: file)
        let stored = try value("checksum")
        let actual = try Self.checksum(of: file)
        guard stored == actual else { throw PackedModelError.checksumMismatch(file: source, expected: stored, found: actual) }

        let (height, width, channels) = try (extent("input_height"), extent("input_width"), extent("input_channels"))
        guard let count = CheckedSize.elementCount([height, width, channels]), count <= PackedGraphDecoder.maximumActivationCount else {
            throw invalid("input_height", "× input_width × input_channels is \(height)×\(width)×\(channels), more than the limit of "
                              + "\(PackedGraphDecoder.maximumActivationCount) values per image")
        }
        let classNames = try decoded("class_names", as: [String].self, "a JSON array of strings")
        let architecture = try value("architecture")
        let preprocessing = metadata[Self.preprocessingMetadataKey] == nil ? [:]
            : try decoded(Self.preprocessingMetadataKey, as: [String: String].self, "a JSON object of strings")
        var decoder = PackedGraphDecoder(file: file)
        let steps = try decoder.steps(from: decoded("graph", as: [PackedGraphNode].self, "a JSON array of steps"), path: "steps")
        let unused = file.tensorNames.filter { !decoder.used.contains($0) }
        guard unused.isEmpty else { throw PackedModelError.unexpectedTensors(file: source, names: unused) }
        do {
            let output = try PackedGraphDecoder.boundedOutputShape(of: steps, input: [1, height, width, channels], path: "steps")
            guard output == [1, classNames.count] else {
                throw invalid("class_names", "has \(classNames.count) names, the graph gives \(output.dropFirst()) values per image")
            }
            try self.init(steps: steps, inputHeight: height, inputWidth: width, inputChannels: channels, classNames: classNames,
                          architecture: architecture, preprocessing: preprocessing)
        } catch let error as PlanError {
            throw PackedModelError.invalidStep(file: source, step: error.step, reason: error.reason)
        }
    }

    /// Whether a file has the parts of a packed model (a `graph`, or only `steps.…` tensors) whatever
    /// its `format` says: a `.bnnpack` whose metadata was damaged, not a checkpoint.
    public static func looksPacked(_ file: SafeTensorsFile) -> Bool {
        file.metadata["graph"] != nil || (!file.tensors.isEmpty && file.tensorNames.allSatisfy { $0.hasPrefix("steps.") })
    }

    /// Checks `format` and `format_version`, recognising float checkpoints and version 1 files.
    private static func checkFormat(of file: SafeTensorsFile) throws {
        let format = file.metadata["format"]
        guard format != formerFormatName else { throw PackedModelError.formerFormat(file: file.source) }
        guard format == formatName else {
            let checkpoint = (format == nil || format == "pt") && !file.tensors.isEmpty && !looksPacked(file)
            throw checkpoint ? PackedModelError.floatCheckpoint(file: file.source)
                : PackedModelError.notAPackedModel(file: file.source, found: format)
        }
        guard let version = file.metadata["format_version"] else {
            throw PackedModelError.invalidMetadata(file: file.source, key: "format_version", reason: "is missing")
        }
        guard version == String(formatVersion) else {
            throw PackedModelError.unsupportedVersion(file: file.source, found: version, supported: formatVersion)
        }
    }

    /// The checksum that the `checksum` metadata of `file` must hold (<doc:PackedModelFormat>), e.g. for
    /// a tool that edits the metadata of a `.bnnpack` file and seals it again.
    ///
    /// - Throws: `SafeTensorsError` when a tensor cannot be read (never for a file that opened).
    public static func checksum(of file: SafeTensorsFile) throws -> String {
        checksum(metadata: file.metadata, tensors: try file.tensorNames.map { ($0, try file.bytes($0)) })
    }

    /// `fnv1a64:` and 16 lowercase hex digits: FNV-1a 64 over every metadata entry but `checksum`,
    /// then every tensor, each in ascending byte order of its UTF-8 key or name, every key, value, name
    /// and tensor data preceded by its byte count as 8 little-endian bytes.
    static func checksum(metadata: [String: String], tensors: [(name: String, bytes: Data)]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ bytes: UnsafeRawBufferPointer) {
            for byte in bytes {
                hash ^= UInt64(byte)
                hash &*= 0x0000_0100_0000_01b3
            }
        }
        func field(_ data: Data) {
            withUnsafeBytes(of: UInt64(data.count).littleEndian, mix)
            data.withUnsafeBytes(mix)
        }
        func inByteOrder(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }
        for (key, value) in metadata.sorted(by: { inByteOrder($0.key, $1.key) }) where key != "checksum" {
            field(Data(key.utf8))
            field(Data(value.utf8))
        }
        for (name, bytes) in tensors.sorted(by: { inByteOrder($0.name, $1.name) }) {
            field(Data(name.utf8))
            field(bytes)
        }
        let hex = String(hash, radix: 16)
        return "fnv1a64:" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// A decoding error as `at 0.body.1.kernel_size: …`.
    private static func describe(_ error: DecodingError) -> String {
        let context: DecodingError.Context
        switch error {
        case let .typeMismatch(_, c), let .valueNotFound(_, c), let .keyNotFound(_, c), let .dataCorrupted(c): context = c
        @unknown default: return "\(error)"
        }
        let path = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        return (path.isEmpty ? "" : "at \(path): ") + context.debugDescription
    }
}
