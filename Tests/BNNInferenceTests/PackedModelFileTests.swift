import BNN
@testable import BNNInference
import Foundation
import Testing

/// The `.bnnpack` file: round trips of every kind of step, and every way a file can be damaged, old,
/// foreign or hostile.
@Suite("The .bnnpack file format, version 2")
final class PackedModelFileTests {
    private typealias StoredTensor = (dtype: SafeTensorsDType, shape: [Int], bytes: Data)

    /// The files this test wrote, removed when it ends.
    private var files: [URL] = []

    deinit {
        for url in files { try? FileManager.default.removeItem(at: url) }
    }

    private func temporaryURL(_ name: String) -> URL {
        files.append(InferenceTestSupport.temporaryURL(name))
        return files[files.count - 1]
    }

    /// 8×8 input: binary convolutions of 70 (two words, a partial one) and 64 input channels, max-pools, HardTanh.
    private func vgg() throws -> PackedModel {
        try exported(Sequential {
            Conv2D(inputChannels: 3, outputChannels: 70, kernelSize: 3, padding: 1)
            BatchNorm2D(channels: 70)
            BinaryConv2D(inputChannels: 70, outputChannels: 64)
            BatchNorm2D(channels: 64)
            MaxPool2D(kernelSize: 2)
            HardTanh()
            BinaryConv2D(inputChannels: 64, outputChannels: 10)
            BatchNorm2D(channels: 10)
            MaxPool2D(kernelSize: 3, stride: 2, padding: 1)
            GlobalAvgPool()
            Linear(inputFeatures: 10, outputFeatures: 5, bias: true)
        }, size: 8, seed: 1, classNames: ["cat", "émeu", "say \"hi\"", "a/b", "狗"])
    }

    /// 8×8 input: a residual block with a strided binary body and a 1×1 convolution shortcut.
    private func residual(zeroing: Bool = false) throws -> PackedModel {
        let model = Initializer.withSeed(2) {
            Sequential {
                Conv2D(inputChannels: 3, outputChannels: 8, kernelSize: 3, padding: 1)
                BatchNorm2D(channels: 8)
                Residual(body: Sequential {
                    BinaryConv2D(inputChannels: 8, outputChannels: 16, stride: 2)
                    BatchNorm2D(channels: 16)
                    ReLU()
                    BinaryConv2D(inputChannels: 16, outputChannels: 16)
                    BatchNorm2D(channels: 16)
                }, shortcut: Sequential {
                    Conv2D(inputChannels: 8, outputChannels: 16, kernelSize: 1, stride: 2)
                    BatchNorm2D(channels: 16)
                }, post: HardTanh())
                Flatten()
                BinaryLinear(inputFeatures: 16 * 4 * 4, outputFeatures: 4)
            }
        }
        if zeroing {
            for (_, parameter) in model.namedParameters() where parameter.kind == .latentBinary {
                var values = parameter.value.scalars
                for i in stride(from: 0, to: values.count, by: 7) { values[i] = 0 }
                parameter.value = Tensor(shape: parameter.value.shape, scalars: values)
            }
        }
        return try exported(model, size: 8, seed: 2)
    }

    /// 7×7 input: a grouped float convolution, LearnableBias, PReLU, sign, a concatenation of a grouped
    /// binary convolution and a ceil-mode average pool, an unfused BatchNorm, a binary dense layer.
    private func mixed() throws -> PackedModel {
        try exported(Sequential {
            Conv2D(inputChannels: 3, outputChannels: 12, kernelSize: 3, padding: 1, groups: 3)
            LearnableBias(channels: 12)
            PReLU(channels: 12)
            Concatenate([
                BinaryConv2D(inputChannels: 12, outputChannels: 8, stride: 2, groups: 4),
                Sequential { SignActivation(); AvgPool2D(kernelSize: 2, ceilMode: true) },
            ])
            BatchNorm2D(channels: 20)
            Flatten()
            BinaryLinear(inputFeatures: 4 * 4 * 20, outputFeatures: 6)
        }, size: 7, seed: 3)
    }

    private func exported(_ model: @autoclosure () -> any TensorLayer, size: Int, seed: UInt64,
                          classNames: [String]? = nil, preprocessing: [String: String] = [:]) throws -> PackedModel {
        let model = Initializer.withSeed(seed, model)
        InferenceTestSupport.randomise(model, seed: seed)
        return try PackedModel(exporting: model, inputHeight: size, inputWidth: size, classNames: classNames,
                               architecture: "test net \(seed)", preprocessing: preprocessing)
    }

    private func written(_ model: PackedModel) throws -> URL {
        let url = temporaryURL("model.bnnpack")
        try model.write(to: url)
        return url
    }

    /// The description of the error reading `url` throws, nil when it reads.
    private func readingError(_ url: URL) -> String? {
        do {
            _ = try PackedModel(contentsOf: url)
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// Writes `metadata` and `tensors` to `url` with a correct checksum, as a writer that made these
    /// changes deliberately would.
    private func seal(_ metadata: [String: String], _ tensors: [String: StoredTensor], to url: URL) throws {
        var metadata = metadata
        metadata["checksum"] = PackedModel.checksum(metadata: metadata, tensors: tensors.map { ($0.key, $0.value.bytes) })
        var writer = SafeTensorsWriter(metadata: metadata)
        for (name, tensor) in tensors { writer.add(bytes: tensor.bytes, shape: tensor.shape, dtype: tensor.dtype, named: name) }
        try writer.write(to: url)
    }

    /// Applies `edit` to the metadata and tensors of the file at `url` and seals the result.
    private func rewrite(_ url: URL, _ edit: (inout [String: String], inout [String: StoredTensor]) throws -> Void) throws {
        let file = try SafeTensorsFile(contentsOf: url)
        var metadata = file.metadata
        var tensors: [String: StoredTensor] = [:]
        for info in file.tensors { tensors[info.name] = (info.dtype, info.shape, try file.bytes(info.name)) }
        try edit(&metadata, &tensors)
        try seal(metadata, tensors, to: url)
    }

    /// A file of a hand-written `graph` on a 4×4×1 input (or `input`), without tensors.
    private func handWritten(graph: String, input: [Int] = [4, 4, 1], classes: Int = 1) throws -> URL {
        let url = temporaryURL("hand.bnnpack")
        let names = String(decoding: try JSONEncoder().encode((0..<classes).map { "c\($0)" }), as: UTF8.self)
        try seal(["format": PackedModel.formatName, "format_version": "2", "input_height": "\(input[0])",
                  "input_width": "\(input[1])", "input_channels": "\(input[2])", "architecture": "", "class_names": names,
                  "graph": graph], [:], to: url)
        return url
    }

    private func graph(_ url: URL) throws -> String {
        try SafeTensorsFile(contentsOf: url).metadata["graph"] ?? ""
    }

    // MARK: - Round trips

    @Test("The format article's example: written, read back equal")
    func articleExample() throws {
        let model = Initializer.withSeed(4) {
            Sequential {
                Conv2D(inputChannels: 3, outputChannels: 8, kernelSize: 3, stride: 2, padding: 1)
                BinaryConv2D(inputChannels: 8, outputChannels: 8)
                GlobalAvgPool()
                Linear(inputFeatures: 8, outputFeatures: 2)
            }
        }
        let names = ["cat", "dog"], url = temporaryURL("model.bnnpack")
        // snippet: packed-model-format
        let packed = try PackedModel(exporting: model, inputHeight: 32, inputWidth: 32, classNames: names)
        try packed.write(to: url)
        let again = try PackedModel(contentsOf: url)   // == packed
        // end-snippet
        #expect(again == packed)
    }

    @Test("VGG-style binary net with max-pools: read back equal, no zero masks")
    func vggRoundTrip() throws {
        let model = try vgg()
        let url = try written(model)
        #expect(try PackedModel(contentsOf: url) == model)
        let file = try SafeTensorsFile(contentsOf: url)
        #expect(try file.info("steps.1.weight").shape == [64, 3, 3, 16], "70 channels: two words, 16 bytes per tap")
        #expect(try file.info("steps.1.weight").dtype == .uint8)
        #expect(try file.info("steps.0.weight").shape == [70, 3, 3, 3])
        #expect(!file.tensorNames.contains { $0.hasSuffix("zero_mask") })
        #expect(file.metadata["architecture"] == "test net 1")
        #expect(try PackedModel(contentsOf: url).classNames == ["cat", "émeu", "say \"hi\"", "a/b", "狗"])
    }

    @Test("Residual net with a 1×1 shortcut and binary convolutions: read back equal")
    func residualRoundTrip() throws {
        let model = try residual()
        let url = try written(model)
        #expect(try PackedModel(contentsOf: url) == model)
        let file = try SafeTensorsFile(contentsOf: url)
        #expect(try file.info("steps.1.body.0.weight").shape == [16, 3, 3, 8])
        #expect(try file.info("steps.1.shortcut.0.weight").shape == [16, 1, 1, 8])
        #expect(try file.info("steps.3.weight").shape == [4, 32], "binary dense: 256 features in 4 words")
    }

    @Test("Concatenation, LearnableBias, PReLU, ceil-mode average pool, binary dense, grouped convolution: read back equal")
    func mixedRoundTrip() throws {
        let model = try mixed()
        let url = try written(model)
        #expect(try PackedModel(contentsOf: url) == model)
        let graph = try graph(url)
        for kind in ["concatenate", "add_bias", "prelu", "sign", "average_pool", "scale_shift", "binary_linear", "binary_convolution"] {
            #expect(graph.contains("\"kind\":\"\(kind)\""), "graph has a \(kind) step")
        }
        #expect(graph.contains("\"ceil_mode\":true"))
        let file = try SafeTensorsFile(contentsOf: url)
        #expect(try file.info("steps.0.weight").shape == [12, 3, 3, 1], "3 groups")
        #expect(try file.info("steps.3.branch.0.0.weight").shape == [8, 3, 3, 8], "4 groups of 3 channels: one word")
    }

    @Test("The preprocessing entries (birealnet-export's crop and filter) read back; without them there is no entry")
    func preprocessingRoundTrip() throws {
        let entries = ["crop_pct": "1.0", "eval_interpolation": "bicubic"]
        let model = try exported(Sequential {
            Conv2D(inputChannels: 3, outputChannels: 8, kernelSize: 3, padding: 1)
            BinaryConv2D(inputChannels: 8, outputChannels: 4)
            GlobalAvgPool()
        }, size: 6, seed: 5, preprocessing: entries)
        let url = try written(model)
        let read = try PackedModel(contentsOf: url)
        #expect(read == model && read.preprocessing == entries)
        #expect(try SafeTensorsFile(contentsOf: url).metadata[PackedModel.preprocessingMetadataKey]
                == #"{"crop_pct":"1.0","eval_interpolation":"bicubic"}"#)
        // A file written before the entry existed (or by a writer that has none) reads with none.
        let plain = try written(try vgg())
        #expect(try SafeTensorsFile(contentsOf: plain).metadata[PackedModel.preprocessingMetadataKey] == nil)
        #expect(try PackedModel(contentsOf: plain).preprocessing.isEmpty)
    }

    @Test("Preprocessing that is not a JSON object of strings is refused, naming the entry")
    func malformedPreprocessing() throws {
        let url = try written(try vgg())
        for text in [#"{"crop_pct": 1}"#, #"["crop_pct"]"#, "crop_pct=1"] {
            try rewrite(url) { metadata, _ in metadata[PackedModel.preprocessingMetadataKey] = text }
            #expect(readingError(url)?.hasPrefix("\(url.path): metadata 'preprocessing' is not a JSON object of strings") == true,
                    "\(readingError(url) ?? "read")")
        }
    }

    @Test("Exact zeros among binary latent weights: stored in a zero mask, read back as 0")
    func zeroWeightsRoundTrip() throws {
        let model = try residual(zeroing: true)
        let url = try written(model)
        let read = try PackedModel(contentsOf: url)
        #expect(read == model)
        let file = try SafeTensorsFile(contentsOf: url)
        for name in ["steps.1.body.0", "steps.1.body.2", "steps.3"] {
            #expect(file.contains("\(name).weight_zero_mask"))
        }
        guard case let .residual(block) = read.steps[1], case let .binaryConvolution(conv) = block.body[0] else {
            Issue.record("steps[1].body[0] is not a binary convolution")
            return
        }
        #expect(conv.weight.filter { $0 == 0 }.count == (conv.weight.count + 6) / 7)
        #expect(conv.weight.allSatisfy { $0 == 0 || $0 == 1 || $0 == -1 })
    }

    @Test("The seeds written by tools/fuzz/make_seeds.py, an independent writer of the format, read")
    func independentlyWrittenFiles() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../tools/fuzz/corpus/bnnpack").standardized
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(names.count >= 3)
        for name in names {
            let model = try PackedModel(contentsOf: folder.appendingPathComponent(name))
            #expect(!model.steps.isEmpty, "\(name)")
        }
    }

    // MARK: - Corruption

    @Test("A flipped byte in the tensor data is a checksum error")
    func flippedDataByte() throws {
        let url = try written(try vgg())
        var bytes = try Data(contentsOf: url)
        bytes[bytes.count - 3] ^= 0x10
        try bytes.write(to: url)
        let message = try #require(readingError(url))
        #expect(message.contains(url.path) && message.contains("checksum") && message.contains("corrupt"), "\(message)")
    }

    @Test("A changed byte in the graph is a checksum error")
    func changedGraphByte() throws {
        let url = try written(try vgg())
        var bytes = try Data(contentsOf: url)
        let key = try #require(bytes.range(of: Data("kernel_size".utf8)))
        let digit = try #require(bytes[key.upperBound...].firstIndex { (0x30...0x39).contains($0) })
        bytes[digit] = bytes[digit] == 0x35 ? 0x37 : 0x35
        try bytes.write(to: url)
        let message = try #require(readingError(url))
        #expect(message.contains(url.path) && message.contains("checksum"), "\(message)")
    }

    @Test("A truncated file is a SafeTensorsError or PackedModelError naming it, at any length")
    func truncated() throws {
        let url = try written(try residual())
        let bytes = try Data(contentsOf: url)
        let headerEnd = 8 + Int(bytes.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) })
        for length in [0, 5, 8, 9, 100, headerEnd - 1, headerEnd, headerEnd + 1, (headerEnd + bytes.count) / 2, bytes.count - 1] {
            try bytes.prefix(length).write(to: url)
            do {
                _ = try PackedModel(contentsOf: url)
                Issue.record("a file truncated to \(length) bytes read")
            } catch let error as SafeTensorsError {
                #expect("\(error)".contains(url.path))
            } catch let error as PackedModelError {
                #expect("\(error)".contains(url.path))
            }
        }
    }

    // MARK: - Other files

    @Test("A version 1 file (bnn-packed-birealnet) asks for a re-export")
    func version1File() throws {
        let url = temporaryURL("v1.bnnpack")
        var writer = SafeTensorsWriter(metadata: ["format": "bnn-packed-birealnet", "format_version": "1", "classes": "10"])
        writer.add(Tensor(zeros: [4, 7, 7, 3]), named: "stem.weight")
        try writer.write(to: url)
        #expect(readingError(url) == "\(url.path) was written by an earlier BNN (format bnn-packed-birealnet version 1, "
                + "Bi-Real Net only); re-export it from its checkpoint with birealnet-export")
    }

    @Test("A float checkpoint asks for an export, with or without 'format: pt'")
    func floatCheckpoint() throws {
        let saved = temporaryURL("checkpoint.safetensors")
        try Checkpoint.save(Conv2D(inputChannels: 3, outputChannels: 4, kernelSize: 3), to: saved)
        let bare = temporaryURL("bare.safetensors")
        var writer = SafeTensorsWriter()
        writer.add(Tensor(zeros: [4, 3, 3, 3]), named: "conv1.weight")
        try writer.write(to: bare)
        for url in [saved, bare] {
            #expect(readingError(url) == "\(url.path) is a float checkpoint, not a packed model; export it with birealnet-export first")
        }
    }

    @Test("Another format, a future version, a missing version")
    func otherFormats() throws {
        let url = try written(try mixed())
        try rewrite(url) { metadata, _ in metadata["format_version"] = "3" }
        #expect(readingError(url) == "\(url.path) has packed model format version '3'; this library reads version 2")
        try rewrite(url) { metadata, _ in metadata["format_version"] = nil }
        #expect(readingError(url) == "\(url.path): metadata 'format_version' is missing")
        try rewrite(url) { metadata, _ in metadata["format"] = "onnx" }
        #expect(readingError(url) == "\(url.path) is not a packed model (metadata 'format' is 'onnx', expected 'bnn-packed-model')")
    }

    // MARK: - Damaged content with a correct checksum

    @Test("A NaN in a tensor is refused, naming the tensor")
    func nanInTensor() throws {
        let url = try written(try vgg())
        try rewrite(url) { _, tensors in
            let nan = withUnsafeBytes(of: Float.nan.bitPattern.littleEndian) { Data($0) }
            tensors["steps.1.scale"]?.bytes.replaceSubrange(4..<8, with: nan)
        }
        #expect(readingError(url) == "\(url.path): tensor 'steps.1.scale' holds nan at element 1; "
                + "the values of a packed model must be finite")
    }

    @Test("A tensor of the wrong shape is refused, naming the tensor and both shapes")
    func wrongShape() throws {
        let url = try written(try vgg())
        try rewrite(url) { _, tensors in
            tensors["steps.0.shift"]?.shape = [71]
            tensors["steps.0.shift"]?.bytes.append(Data(count: 4))
        }
        #expect(readingError(url) == "\(url.path): tensor 'steps.0.shift' must be F32 [70], found F32 [71]")
    }

    @Test("A missing tensor is refused, naming it")
    func missingTensor() throws {
        let url = try written(try residual())
        try rewrite(url) { _, tensors in tensors["steps.1.shortcut.0.weight"] = nil }
        #expect(readingError(url) == "\(url.path): tensor 'steps.1.shortcut.0.weight' must be F32 [16, 1, 1, 8], found no such tensor")
    }

    @Test("A tensor the graph does not name is refused")
    func extraTensor() throws {
        let url = try written(try residual())
        try rewrite(url) { _, tensors in tensors["fc.bias"] = (.float32, [1], Data(count: 4)) }
        #expect(readingError(url) == "\(url.path): tensors not named by the graph: fc.bias")
    }

    @Test("Class names that do not match the logits are refused, naming class_names")
    func classNamesMismatch() throws {
        let url = try written(try vgg())
        try rewrite(url) { metadata, _ in metadata["class_names"] = #"["a","b","c"]"# }
        #expect(readingError(url) == "\(url.path): metadata 'class_names' has 3 names, the graph gives [5] values per image")
        try rewrite(url) { metadata, _ in metadata["class_names"] = #"{"a":1}"# }
        #expect(readingError(url)?.hasPrefix("\(url.path): metadata 'class_names' is not a JSON array of strings") == true)
    }

    @Test("Sign bits past a row's weights are refused")
    func bitsPastChannels() throws {
        let url = try written(try vgg())
        try rewrite(url) { _, tensors in tensors["steps.1.weight"]?.bytes[15] |= 0x80 }
        #expect(readingError(url) == "\(url.path): tensor 'steps.1.weight' must be the bits of 70 weights per row, "
                + "found bits set past weight 70 in row 0")
    }

    @Test("A step that does not fit its input is refused with the plan's message")
    func planError() throws {
        let url = try written(try residual())
        try rewrite(url) { metadata, _ in
            metadata["graph"] = metadata["graph"]?.replacingOccurrences(of: #""stride":2"#, with: #""stride":1"#)
        }
        let message = try #require(readingError(url))
        #expect(message.hasPrefix("\(url.path): graph step steps[3]") && message.hasSuffix("256 input features expected, found 1024"),
                "\(message)")
    }

    // MARK: - Hostile graphs

    @Test("Integers out of range and wrong JSON types are refused, naming the step and key")
    func outOfRangeAttributes() throws {
        let big = try handWritten(graph: #"[{"kind":"max_pool","kernel_size":99999999999,"stride":1,"padding":0}]"#)
        #expect(readingError(big) == "\(big.path): graph step steps[0]: 'kernel_size' must be in 1...16777216, found 99999999999")
        let negative = try handWritten(graph: #"[{"kind":"average_pool","kernel_size":2,"stride":1,"padding":-1,"ceil_mode":false}]"#)
        #expect(readingError(negative) == "\(negative.path): graph step steps[0]: 'padding' must be in 0...16777216, found -1")
        let missing = try handWritten(graph: #"[{"kind":"max_pool","kernel_size":2,"padding":0}]"#)
        #expect(readingError(missing) == "\(missing.path): graph step steps[0]: has no 'stride'")
        let unknown = try handWritten(graph: #"[{"kind":"attention"}]"#)
        #expect(readingError(unknown)?.hasPrefix("\(unknown.path): metadata 'graph' is not a JSON array of steps (at 0.kind") == true)
        let input = try handWritten(graph: "[]", input: [1, 0, 1])
        #expect(readingError(input) == "\(input.path): metadata 'input_width' must be an integer in 1...16777216, found '0'")
    }

    @Test("Activations too large to count are refused before any size can overflow")
    func activationLimit() throws {
        let widen = #"{"kind":"concatenate","branches":[[],[],[],[],[],[],[],[]]}"#
        let url = try handWritten(graph: "[" + Array(repeating: widen, count: 40).joined(separator: ",") + ",{\"kind\":\"flatten\"}]",
                                  input: [4096, 4096, 1])
        #expect(readingError(url) == "\(url.path): graph step steps[2]: gives [1, 4096, 4096, 512] values, "
                + "more than the limit of 4294967296 per image")
        let input = try handWritten(graph: #"[{"kind":"flatten"}]"#, input: [1 << 24, 1 << 24, 1 << 24])
        #expect(readingError(input)?.hasPrefix("\(input.path): metadata 'input_height'") == true)
    }

    @Test("Nesting deeper than 64 structural steps is refused")
    func nestingLimit() throws {
        var graph = "[]"
        for _ in 0..<65 { graph = #"[{"kind":"residual","shortcut":[],"post":[],"body":"# + graph + "}]" }
        let url = try handWritten(graph: graph)
        let message = try #require(readingError(url))
        #expect(message.hasPrefix("\(url.path): graph step steps[0]") && message.hasSuffix("nests deeper than 64 levels"), "\(message)")
    }

    @Test("A tensor named by two steps is refused")
    func sharedTensor() throws {
        let url = temporaryURL("shared.bnnpack")
        let bias = #"{"kind":"add_bias","bias":"b"}"#
        try seal(["format": PackedModel.formatName, "format_version": "2", "input_height": "1", "input_width": "1",
                  "input_channels": "2", "architecture": "", "class_names": #"["a","b"]"#,
                  "graph": "[\(bias),\(bias),{\"kind\":\"flatten\"}]"],
                 ["b": (.float32, [2], Data(count: 8))], to: url)
        #expect(readingError(url) == "\(url.path): graph step steps[1]: tensor 'b' belongs to an earlier step")
    }
}
