import BiRealNet
import BNN
import Foundation
import Testing

/// Loading PyTorch-style checkpoints: `module.` prefixes, the official code's flat binary weights, and
/// the errors a user sees for a wrong file.
@Suite struct CheckpointLoadingTests {
    static let configuration = BiRealNetConfiguration.birealnet18(classes: 4, stem: .small, widths: [4, 8, 8, 8])

    static func temporaryURL() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("bnn-birealnet-\(UUID().uuidString).safetensors")
    }

    /// Writes `model` the way the official Bi-Real PyTorch code under `DataParallel` would: every name
    /// prefixed with `module.`, binary weights flattened to [O·I·3·3, 1] under `binary_conv.weights`.
    static func writeOfficialStyle(_ model: BiRealNet, to url: URL, dropping dropped: String? = nil) throws {
        var writer = SafeTensorsWriter(metadata: [:])
        for (name, p) in model.namedParameters() where name != dropped {
            if name.hasSuffix("binary_conv.weight") {
                let flat = p.diskValue().reshaped([p.value.count, 1])
                writer.add(flat, named: "module." + name + "s")
            } else {
                writer.add(p.diskValue(), named: "module." + name, as: p.storesAsInteger ? .int64 : .float32)
            }
        }
        try writer.write(to: url)
    }

    @Test func officialFlatWeightsWithModulePrefixLoadExactly() throws {
        let source = Initializer.withSeed(1) { BiRealNet(Self.configuration) }
        let url = Self.temporaryURL()
        defer { try? FileManager.default.removeItem(at: url) }
        try Self.writeOfficialStyle(source, to: url)

        let target = Initializer.withSeed(2) { BiRealNet(Self.configuration) }
        let report = try target.loadWeights(from: url)
        #expect(report.missing.isEmpty && report.unexpected.isEmpty)
        for ((name, a), (_, b)) in zip(source.namedParameters(), target.namedParameters()) {
            #expect(a.value == b.value, "\(name) differs after loading")
        }
    }

    @Test func missingTensorIsAStrictErrorAndLeavesTheModelUnchanged() throws {
        let source = Initializer.withSeed(1) { BiRealNet(Self.configuration) }
        let url = Self.temporaryURL()
        defer { try? FileManager.default.removeItem(at: url) }
        try Self.writeOfficialStyle(source, to: url, dropping: "layer2.0.bn1.running_var")

        let target = Initializer.withSeed(2) { BiRealNet(Self.configuration) }
        let before = target.namedParameters().map(\.parameter.value)
        do {
            try target.loadWeights(from: url)
            Issue.record("a checkpoint without layer2.0.bn1.running_var was accepted")
        } catch let error as CheckpointError {
            #expect(String(describing: error).contains("layer2.0.bn1.running_var"))
        }
        #expect(target.namedParameters().map(\.parameter.value) == before)
        // Non-strict loading reports the gap and loads the rest.
        let report = try target.loadWeights(from: url, strict: false)
        #expect(report.missing == ["layer2.0.bn1.running_var"])
    }

    @Test func wrongSizedFlatWeightsNameTheTensor() throws {
        let url = Self.temporaryURL()
        defer { try? FileManager.default.removeItem(at: url) }
        var writer = SafeTensorsWriter(metadata: [:])
        writer.add(Tensor(zeros: [10, 1]), named: "layer1.0.binary_conv.weights")
        try writer.write(to: url)
        let model = Initializer.withSeed(2) { BiRealNet(Self.configuration) }
        #expect(throws: CheckpointError.shapeMismatch(file: url.path, tensor: "layer1.0.binary_conv.weight",
                                                      checkpointName: "layer1.0.binary_conv.weights",
                                                      expected: [4 * 4 * 9, 1], found: [10, 1])) {
            try model.loadWeights(from: url)
        }
    }
}
