import BiRealNet
import BNN
@testable import BNNInference
import Foundation
import Testing

/// The packed file: round trip, size, and every way a file or an input can be wrong.
@Suite("Packed model file")
struct PackedModelFileTests {
    private static func smallExport() throws -> PackedModel {
        let model = InferenceTestSupport.model(.birealnet18(classes: 3, widths: [8, 16, 24, 72]), seed: 21)
        return try BiRealNetExport.export(model, classNames: ["cat", "dog", "émeu"], inputHeight: 20, inputWidth: 20).model
    }

    /// Writes `model`, calls `body` with its bytes and URL, and removes the file.
    private func withFile(_ model: PackedModel, _ body: (Data, URL) throws -> Void) throws {
        let url = InferenceTestSupport.temporaryURL("model.bnnpack")
        defer { try? FileManager.default.removeItem(at: url) }
        try model.write(to: url)
        try body(try Data(contentsOf: url), url)
    }

    /// Rewrites `file` with changed metadata and tensors (`replacing` maps a name to new bytes, nil to
    /// drop it; names not in the file are added as U8 vectors) and a checksum that fits the new tensors.
    private func rewritten(_ file: SafeTensorsFile, metadata: [String: String],
                           replacing: [String: Data?] = [:]) throws -> SafeTensorsFile {
        var tensors: [(name: String, shape: [Int], dtype: SafeTensorsDType, bytes: Data)] = []
        for info in file.tensors {
            let bytes: Data?
            if let entry = replacing[info.name] { bytes = entry } else { bytes = try file.bytes(info.name) }
            if let bytes { tensors.append((info.name, info.shape, info.dtype, bytes)) }
        }
        for (name, bytes) in replacing where !file.contains(name) {
            if let bytes { tensors.append((name, [bytes.count], .uint8, bytes)) }
        }
        var meta = metadata
        if meta["checksum"] != nil { meta["checksum"] = PackedModel.checksum(tensors.map { ($0.name, $0.bytes) }) }
        var writer = SafeTensorsWriter(metadata: meta)
        for t in tensors { writer.add(bytes: t.bytes, shape: t.shape, dtype: t.dtype, named: t.name) }
        let url = InferenceTestSupport.temporaryURL("rewritten.bnnpack")
        defer { try? FileManager.default.removeItem(at: url) }
        try writer.write(to: url)
        return try SafeTensorsFile(data: try Data(contentsOf: url), source: "rewritten")
    }

    @Test("Round trip keeps every value, the class names and the input size")
    func roundTrip() throws {
        let model = try Self.smallExport()
        try withFile(model) { _, url in
            let read = try PackedModel(contentsOf: url)
            #expect(read == model)
            #expect(read.classNames == ["cat", "dog", "émeu"])
            #expect(read.inputHeight == 20 && read.inputWidth == 20)
        }
    }

    @Test("The binary weights take one bit each")
    func packedSize() throws {
        let model = try Self.smallExport()
        let binary = model.blocks.reduce(0) { $0 + $1.binary.packedByteCount }
        let bits = model.blocks.reduce(0) { $0 + $1.binary.outputChannels * 9 * binaryWordCount(channels: $1.binary.inputChannels) * 64 }
        #expect(binary * 8 == bits)
        try withFile(model) { data, _ in #expect(data.count < model.weightByteCount + 16_384) }
    }

    @Test("A truncated file is rejected by the safetensors validation")
    func truncated() throws {
        try withFile(try Self.smallExport()) { data, _ in
            for length in [0, 7, 100, data.count / 2, data.count - 1] {
                #expect(throws: SafeTensorsError.self) {
                    try PackedModel(file: SafeTensorsFile(data: data.prefix(length), source: "cut"))
                }
            }
        }
    }

    @Test("A flipped bit in the weights fails the checksum")
    func corrupted() throws {
        try withFile(try Self.smallExport()) { data, _ in
            var bad = data
            bad[bad.count - 3] ^= 0x10
            #expect {
                try PackedModel(file: SafeTensorsFile(data: bad, source: "bad"))
            } throws: { error in
                guard case .checksumMismatch(let file, _, _)? = error as? PackedModelError else { return false }
                return file == "bad"
            }
        }
    }

    @Test("Another format version, a float checkpoint, bad metadata and missing tensors give clear errors")
    func invalidContent() throws {
        try withFile(try Self.smallExport()) { data, _ in
            let file = try SafeTensorsFile(data: data, source: "model")
            var metadata = file.metadata
            metadata["format_version"] = "2"
            #expect(throws: PackedModelError.unsupportedVersion(file: "rewritten", found: "2", supported: 1)) {
                try PackedModel(file: try rewritten(file, metadata: metadata))
            }
            #expect(throws: PackedModelError.notAPackedModel(file: "rewritten", found: nil)) {
                try PackedModel(file: try rewritten(file, metadata: [:]))
            }
            metadata = file.metadata
            metadata["widths"] = "8,16,24"
            #expect(throws: PackedModelError.self) { try PackedModel(file: try rewritten(file, metadata: metadata)) }
            metadata = file.metadata
            metadata["class_names"] = "[\"a\"]"
            #expect(throws: PackedModelError.self) { try PackedModel(file: try rewritten(file, metadata: metadata)) }
            #expect(try PackedModel(file: try rewritten(file, metadata: file.metadata)) == PackedModel(file: file))
            #expect(throws: PackedModelError.invalidTensor(file: "rewritten", tensor: "layer2.0.downsample.weight",
                                                           expected: "F32 [16, 8]", found: "no such tensor")) {
                try PackedModel(file: try rewritten(file, metadata: file.metadata, replacing: ["layer2.0.downsample.weight": nil]))
            }
            #expect(throws: PackedModelError.unexpectedTensors(file: "rewritten", names: ["extra"])) {
                try PackedModel(file: try rewritten(file, metadata: file.metadata, replacing: ["extra": Data([1, 2])]))
            }
            // Layer 4 has 72 input channels: bits 8…63 of every second word must stay clear.
            var signs = try file.bytes("layer4.1.binary_conv.signs")
            signs[15] |= 0x80
            #expect(throws: PackedModelError.invalidTensor(file: "rewritten", tensor: "layer4.1.binary_conv.signs",
                                                           expected: "sign bits only for the 72 input channels",
                                                           found: "bits set past channel 72")) {
                try PackedModel(file: try rewritten(file, metadata: file.metadata, replacing: ["layer4.1.binary_conv.signs": signs]))
            }
        }
        let checkpoint = InferenceTestSupport.temporaryURL("float.safetensors")
        defer { try? FileManager.default.removeItem(at: checkpoint) }
        var writer = SafeTensorsWriter(metadata: ["epoch": "1"])
        writer.add(Tensor(zeros: [2]), named: "fc.bias")
        try writer.write(to: checkpoint)
        #expect(throws: PackedModelError.notAPackedModel(file: checkpoint.path, found: nil)) {
            try PackedModel(contentsOf: checkpoint)
        }
    }

    @Test("Input of the wrong size or rank is rejected")
    func wrongInput() throws {
        let engine = InferenceEngine(model: try Self.smallExport())
        for shape in [[1, 21, 20, 3], [1, 20, 20, 1], [20, 20, 3], [0, 20, 20, 3]] {
            #expect(throws: InferenceError.inputShape(expected: "N×20×20×3 (N ≥ 1, channels last)", found: shape)) {
                try engine.logits(for: Tensor(zeros: shape))
            }
        }
    }
}
