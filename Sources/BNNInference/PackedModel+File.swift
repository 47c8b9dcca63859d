import BiRealNet
import BNN
import Foundation

extension PackedModel {
    /// Writes the model as one safetensors file (format in ``PackedModel``), atomically.
    ///
    /// - Throws: `SafeTensorsError.io` when the file cannot be written.
    public func write(to url: URL) throws {
        let tensors = encodedTensors()
        var metadata: [String: String] = [
            "format": Self.formatName,
            "format_version": String(Self.formatVersion),
            "blocks_per_stage": configuration.blocksPerStage.map(String.init).joined(separator: ","),
            "widths": configuration.widths.map(String.init).joined(separator: ","),
            "classes": String(configuration.classes),
            "stem": configuration.stem.rawValue,
            "variant": configuration.variant.rawValue,
            "input_height": String(inputHeight),
            "input_width": String(inputWidth),
            "class_names": String(decoding: try JSONEncoder().encode(classNames), as: UTF8.self),
        ]
        metadata["checksum"] = Self.checksum(tensors.map { ($0.name, $0.bytes) })
        var writer = SafeTensorsWriter(metadata: metadata)
        for t in tensors { writer.add(bytes: t.bytes, shape: t.shape, dtype: t.dtype, named: t.name) }
        try writer.write(to: url)
    }

    /// Reads and validates a packed model file.
    ///
    /// - Throws: `SafeTensorsError` (naming the file) when it is not valid safetensors, e.g. truncated;
    ///   ``PackedModelError`` when it is not a packed model, has another format version, invalid
    ///   metadata, missing or mis-shaped tensors, or a checksum mismatch.
    public init(contentsOf url: URL) throws {
        try self.init(file: SafeTensorsFile(contentsOf: url))
    }

    /// Reads and validates a packed model from an opened safetensors file; see ``init(contentsOf:)``.
    public init(file: SafeTensorsFile) throws {
        let source = file.source
        let meta = file.metadata
        guard meta["format"] == Self.formatName else {
            throw PackedModelError.notAPackedModel(file: source, found: meta["format"])
        }
        guard let version = meta["format_version"] else {
            throw PackedModelError.invalidMetadata(file: source, key: "format_version", reason: "is missing")
        }
        guard version == String(Self.formatVersion) else {
            throw PackedModelError.unsupportedVersion(file: source, found: version, supported: Self.formatVersion)
        }
        func string(_ key: String) throws -> String {
            guard let value = meta[key] else { throw PackedModelError.invalidMetadata(file: source, key: key, reason: "is missing") }
            return value
        }
        func integer(_ key: String) throws -> Int {
            let text = try string(key)
            guard let value = Int(text), value > 0 else {
                throw PackedModelError.invalidMetadata(file: source, key: key, reason: "must be a positive integer, found '\(text)'")
            }
            return value
        }
        func four(_ key: String) throws -> [Int] {
            let text = try string(key)
            let values = text.split(separator: ",").compactMap { Int($0) }
            guard values.count == 4, text.split(separator: ",").count == 4, values.allSatisfy({ $0 > 0 }) else {
                throw PackedModelError.invalidMetadata(file: source, key: key,
                                                       reason: "must be four positive integers like '6,8,12,6', found '\(text)'")
            }
            return values
        }
        let classes = try integer("classes")
        let stemText = try string("stem"), variantText = try string("variant")
        guard let stem = BiRealNetConfiguration.Stem(rawValue: stemText) else {
            throw PackedModelError.invalidMetadata(file: source, key: "stem",
                                                   reason: "must be imagenet or small, found '\(stemText)'")
        }
        guard let variant = BiRealNetConfiguration.Variant(rawValue: variantText) else {
            throw PackedModelError.invalidMetadata(file: source, key: "variant",
                                                   reason: "must be reference or paper, found '\(variantText)'")
        }
        let configuration = BiRealNetConfiguration(blocksPerStage: try four("blocks_per_stage"), widths: try four("widths"),
                                                   classes: classes, stem: stem, variant: variant)
        let names = try? JSONDecoder().decode([String].self, from: Data(try string("class_names").utf8))
        guard let classNames = names, classNames.count == classes else {
            throw PackedModelError.invalidMetadata(file: source, key: "class_names",
                                                   reason: "must be a JSON array of \(classes) strings")
        }
        let stored = try string("checksum")
        let actual = Self.checksum(try file.tensorNames.map { ($0, try file.bytes($0)) })
        guard stored == actual else { throw PackedModelError.checksumMismatch(file: source, expected: stored, found: actual) }

        var reader = TensorReader(file: file)
        let w0 = configuration.widths[0]
        let stemKernel = stem == .imagenet ? 7 : 3
        let stemLayer = FoldedConvolution(
            outputChannels: w0, inputChannels: 3, kernelSize: stemKernel, stride: stem == .imagenet ? 2 : 1,
            padding: stem == .imagenet ? 3 : 1, weight: try reader.floats("stem.weight", [w0, stemKernel, stemKernel, 3]),
            bias: try reader.floats("stem.bias", [w0]))
        var blocks: [PackedBlock] = []
        for b in Self.blockLayout(configuration) {
            let words = binaryWordCount(channels: b.input)
            let signs = try reader.words("\(b.name).binary_conv.signs", [b.output, 3, 3, 8 * words], channels: b.input)
            let binary = PackedBinaryConvolution(
                outputChannels: b.output, inputChannels: b.input, kernelSize: 3, stride: b.stride, padding: 1, signs: signs,
                scale: try reader.floats("\(b.name).binary_conv.scale", [b.output]),
                bias: try reader.floats("\(b.name).binary_conv.bias", [b.output]),
                clamp: variant == .reference ? -1...1 : nil)
            var downsample: FoldedConvolution?
            if b.stride != 1 || b.input != b.output {
                downsample = FoldedConvolution(outputChannels: b.output, inputChannels: b.input, kernelSize: 1, stride: 1,
                                               padding: 0,
                                               weight: try reader.floats("\(b.name).downsample.weight", [b.output, b.input]),
                                               bias: nil)
            }
            blocks.append(PackedBlock(name: b.name, binary: binary, downsample: downsample))
        }
        let features = configuration.widths[3]
        let classifier = FoldedLinear(inputFeatures: features, outputFeatures: classes,
                                      weight: try reader.floats("fc.weight", [classes, features]),
                                      bias: try reader.floats("fc.bias", [classes]))
        let unused = file.tensorNames.filter { !reader.used.contains($0) }
        guard unused.isEmpty else { throw PackedModelError.unexpectedTensors(file: source, names: unused) }
        self.init(configuration: configuration, inputHeight: try integer("input_height"), inputWidth: try integer("input_width"),
                  classNames: classNames, stem: stemLayer, blocks: blocks, classifier: classifier)
    }

    /// The tensors of the file: name, dtype, shape and little-endian bytes.
    private func encodedTensors() -> [(name: String, dtype: SafeTensorsDType, shape: [Int], bytes: Data)] {
        func floats(_ name: String, _ values: [Float], _ shape: [Int]) -> (String, SafeTensorsDType, [Int], Data) {
            (name, .float32, shape, values.withUnsafeBufferPointer { Data(buffer: $0) })
        }
        var result = [floats("stem.weight", stem.weight, [stem.outputChannels, stem.kernelSize, stem.kernelSize, 3]),
                      floats("stem.bias", stem.bias ?? [Float](repeating: 0, count: stem.outputChannels), [stem.outputChannels])]
        for block in blocks {
            let b = block.binary
            let bytes = b.signs.map { $0.littleEndian }.withUnsafeBufferPointer { Data(buffer: $0) }
            result.append(("\(block.name).binary_conv.signs", .uint8,
                           [b.outputChannels, b.kernelSize, b.kernelSize, 8 * b.wordsPerTap], bytes))
            result.append(floats("\(block.name).binary_conv.scale", b.scale, [b.outputChannels]))
            result.append(floats("\(block.name).binary_conv.bias", b.bias, [b.outputChannels]))
            if let d = block.downsample {
                result.append(floats("\(block.name).downsample.weight", d.weight, [d.outputChannels, d.inputChannels]))
            }
        }
        result.append(floats("fc.weight", classifier.weight, [classifier.outputFeatures, classifier.inputFeatures]))
        result.append(floats("fc.bias", classifier.bias, [classifier.outputFeatures]))
        return result
    }

    /// `fnv1a64:` and 16 hex digits: FNV-1a 64 over the tensors in name order, name bytes then data bytes.
    static func checksum(_ tensors: [(String, Data)]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ bytes: UnsafeRawBufferPointer) {
            for byte in bytes {
                hash ^= UInt64(byte)
                hash &*= 0x0000_0100_0000_01b3
            }
        }
        for (name, data) in tensors.sorted(by: { $0.0 < $1.0 }) {
            Array(name.utf8).withUnsafeBytes(mix)
            data.withUnsafeBytes(mix)
        }
        let hex = String(hash, radix: 16)
        return "fnv1a64:" + String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// Reads the tensors of a packed model file with dtype and shape checks, remembering which it read.
private struct TensorReader {
    let file: SafeTensorsFile
    var used: Set<String> = []

    /// The F32 tensor `name` of exactly `shape`.
    mutating func floats(_ name: String, _ shape: [Int]) throws -> [Float] {
        try check(name, .float32, shape)
        return try file.tensor(name).scalars
    }

    /// The U8 tensor `name` of exactly `shape`, as little-endian 64-bit words whose bits past
    /// `channels` (in each group of ⌈channels/64⌉ words) must be clear.
    mutating func words(_ name: String, _ shape: [Int], channels: Int) throws -> [UInt64] {
        try check(name, .uint8, shape)
        let bytes = try file.bytes(name)
        let count = bytes.count / 8
        let words = [UInt64](unsafeUninitializedCapacity: count) { buffer, initialized in
            bytes.withUnsafeBytes { raw in
                for i in 0..<count { buffer[i] = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)) }
            }
            initialized = count
        }
        let perTap = binaryWordCount(channels: channels)
        let tail = channels % 64
        if tail != 0 {
            let mask = ~((UInt64(1) << UInt64(tail)) - 1)
            var tap = perTap - 1
            while tap < words.count {
                guard words[tap] & mask == 0 else {
                    throw PackedModelError.invalidTensor(file: file.source, tensor: name,
                                                         expected: "sign bits only for the \(channels) input channels",
                                                         found: "bits set past channel \(channels)")
                }
                tap += perTap
            }
        }
        return words
    }

    /// Checks that `name` exists with `dtype` and `shape` and marks it used.
    private mutating func check(_ name: String, _ dtype: SafeTensorsDType, _ shape: [Int]) throws {
        guard file.contains(name) else {
            throw PackedModelError.invalidTensor(file: file.source, tensor: name, expected: "\(dtype.rawValue) \(shape)",
                                                 found: "no such tensor")
        }
        let info = try file.info(name)
        guard info.dtype == dtype, info.shape == shape else {
            throw PackedModelError.invalidTensor(file: file.source, tensor: name, expected: "\(dtype.rawValue) \(shape)",
                                                 found: "\(info.dtype.rawValue) \(info.shape)")
        }
        used.insert(name)
    }
}
