import Foundation
import Testing
@testable import BNN

/// A test-only model mirroring PyTorch's `Conv2d(2, 4, 3, bias=False)` + `BatchNorm2d(4)`: a
/// convolution weight held O×kH×kW×I, real parameters, buffers and an integer buffer.
private final class TinyNet: Module {
    final class Conv: Module {
        let weight: Parameter
        init(_ weight: Tensor) { self.weight = Parameter(weight, kind: .latentBinary, layout: .convolutionOHWI) }
        var ownParameters: [(name: String, parameter: Parameter)] { [("weight", weight)] }
    }

    final class Norm: Module {
        let weight: Parameter, bias: Parameter, runningMean: Parameter, runningVar: Parameter, batchesTracked: Parameter
        init(channels: Int, seed: UInt64) {
            var generator = SeededGenerator(seed: seed)
            weight = Parameter(Tensor(randomNormal: [channels], generator: &generator), kind: .real)
            bias = Parameter(Tensor(randomNormal: [channels], generator: &generator), kind: .real)
            runningMean = Parameter(Tensor(randomNormal: [channels], generator: &generator), kind: .buffer)
            runningVar = Parameter(Tensor(randomUniform: [channels], lower: 0.5, upper: 2, generator: &generator), kind: .buffer)
            batchesTracked = Parameter(Tensor(shape: [], scalars: [Float(seed % 1000)]), kind: .buffer, storesAsInteger: true)
        }
        var ownParameters: [(name: String, parameter: Parameter)] {
            [("weight", weight), ("bias", bias), ("running_mean", runningMean), ("running_var", runningVar),
             ("num_batches_tracked", batchesTracked)]
        }
    }

    let conv: Conv
    let bn: Norm

    init(seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        conv = Conv(Tensor(randomNormal: [4, 3, 3, 2], generator: &generator))
        bn = Norm(channels: 4, seed: seed &+ 1)
    }

    var children: [(name: String, module: any Module)] { [("conv", conv), ("bn", bn)] }

    /// Every parameter value, in model order, to compare whole models.
    var values: [Tensor] { namedParameters().map(\.parameter.value) }
}

/// The model state of the `torch_module` fixture, in PyTorch layout, as written by
/// tools/fixtures/make_safetensors_fixture.py.
private enum TorchFixture {
    static let convWeight = Tensor(shape: [4, 2, 3, 3], scalars: (0..<72).map { Float($0) / 8 - 4 })
    static let bnWeight: [Float] = [0.5, 1.0, 1.5, 2.0]
    static let bnBias: [Float] = [-0.25, 0.0, 0.25, 0.5]
    static let runningMean: [Float] = [0.125, -0.125, 1.0, -1.0]
    static let runningVar: [Float] = [1.0, 2.0, 4.0, 8.0]
    static let batchesTracked: Float = 12345
    static let names = ["module.bn.bias", "module.bn.num_batches_tracked", "module.bn.running_mean", "module.bn.running_var",
                        "module.bn.weight", "module.conv.weight"]
}

@Suite("Checkpoint")
struct CheckpointTests {
    @Test("a module, extra tensors and metadata round-trip exactly")
    func roundTrip() throws {
        try withSafeTensorsTestDirectory { directory in
            let url = directory.appendingPathComponent("tiny.safetensors")
            let source = TinyNet(seed: 1)
            source.bn.batchesTracked.value = Tensor(shape: [], scalars: [16_777_216])
            var generator = SeededGenerator(seed: 99)
            _ = generator.next()
            let momentum = Tensor(randomNormal: [4, 2, 3, 3], generator: &generator)
            try Checkpoint.save(source, to: url,
                                extraTensors: [("optimizer.conv.weight.exp_avg", momentum),
                                               ("optimizer.step", Tensor(shape: [1], scalars: [17])),
                                               ("ema.bn.weight", source.bn.weight.value)],
                                metadata: ["epoch": "4", "rng": try Checkpoint.metadataJSON(generator)])

            // On disk: PyTorch names, layout and dtypes.
            let file = try SafeTensorsFile(contentsOf: url)
            #expect(try file.info("conv.weight").shape == [4, 2, 3, 3])
            #expect(try file.tensor("conv.weight") == source.conv.weight.diskValue())
            #expect(try file.info("bn.num_batches_tracked").dtype == .int64)
            #expect(try file.info("bn.num_batches_tracked").shape == [])
            #expect(try file.integers("bn.num_batches_tracked") == [16_777_216])
            #expect(try file.info("bn.running_var").dtype == .float32)
            #expect(file.metadata["format"] == "pt")

            let checkpoint = try Checkpoint(contentsOf: url)
            #expect(checkpoint.metadata == ["epoch": "4", "format": "pt", "rng": try Checkpoint.metadataJSON(generator)])
            #expect(checkpoint.extraTensorNames == ["ema.bn.weight", "optimizer.conv.weight.exp_avg", "optimizer.step"])
            #expect(checkpoint.modelTensorNames == source.namedParameters().map(\.name).sorted())

            let target = TinyNet(seed: 2)
            #expect(target.values != source.values)
            let report = try checkpoint.load(into: target)
            #expect(target.values == source.values)
            #expect(report == CheckpointLoadReport(loaded: source.namedParameters().map(\.name), missing: [], unexpected: [],
                                                   ignored: []))
            #expect(target.conv.weight.gradient == Tensor(zeros: [4, 3, 3, 2]))

            let optimizerState = try checkpoint.extraTensors(withPrefix: "optimizer.")
            #expect(optimizerState == ["conv.weight.exp_avg": momentum, "step": Tensor(shape: [1], scalars: [17])])
            #expect(try checkpoint.extraTensor("ema.bn.weight") == source.bn.weight.value)
            #expect(try checkpoint.extraTensors(withPrefix: "").count == 3)
            #expect(try checkpoint.metadataValue("epoch") == "4")
            var restored = try checkpoint.decodeMetadata(SeededGenerator.self, forKey: "rng")
            #expect(restored == generator)
            #expect(restored.next() == generator.next())
        }
    }

    @Test("a PyTorch DataParallel state dict loads strictly after stripping `module.`, with mixed dtypes")
    func torchFixture() throws {
        let url = try safeTensorsFixture("torch_module")
        let checkpoint = try Checkpoint(contentsOf: url)
        #expect(checkpoint.extraTensorNames.isEmpty)
        #expect(checkpoint.modelTensorNames == TorchFixture.names)
        #expect(checkpoint.metadata == ["format": "pt"])

        let model = TinyNet(seed: 3)
        let report = try checkpoint.load(into: model, renaming: .stripPrefix("module."))
        #expect(report.loaded.count == 6 && report.missing.isEmpty && report.unexpected.isEmpty)
        #expect(model.conv.weight.diskValue() == TorchFixture.convWeight)
        // Memory layout O×kH×kW×I: element (o, h, w, i) is the PyTorch element (o, i, h, w).
        #expect(model.conv.weight.value.shape == [4, 3, 3, 2])
        #expect(model.conv.weight.value[3, 1, 2, 1] == TorchFixture.convWeight[3, 1, 1, 2])
        #expect(model.conv.weight.value[1, 2, 0, 0] == TorchFixture.convWeight[1, 0, 2, 0])
        #expect(model.bn.weight.value.scalars == TorchFixture.bnWeight)        // F16 on disk
        #expect(model.bn.bias.value.scalars == TorchFixture.bnBias)            // BF16 on disk
        #expect(model.bn.runningMean.value.scalars == TorchFixture.runningMean)
        #expect(model.bn.runningVar.value.scalars == TorchFixture.runningVar)  // F64 on disk
        #expect(model.bn.batchesTracked.value == Tensor(shape: [], scalars: [TorchFixture.batchesTracked]))
    }

    @Test("strict loading names missing and unexpected tensors and changes nothing")
    func strictMismatch() throws {
        let url = try safeTensorsFixture("torch_module")
        let checkpoint = try Checkpoint(contentsOf: url)
        let model = TinyNet(seed: 4)
        let before = model.values
        let modelNames = model.namedParameters().map(\.name)
        let counted = modelNames.filter { $0 != "bn.num_batches_tracked" }   // a missing count starts at 0
        #expect(throws: CheckpointError.tensorSetMismatch(file: url.path, missing: counted, unexpected: TorchFixture.names)) {
            try checkpoint.load(into: model)
        }
        // One tensor missing: ignore it through the renaming.
        let renaming = CheckpointRenaming.rules([.stripPrefix("module."), .ignore(prefix: "bn.running_var")])
        #expect(throws: CheckpointError.tensorSetMismatch(file: url.path, missing: ["bn.running_var"], unexpected: [])) {
            try checkpoint.load(into: model, renaming: renaming)
        }
        #expect(model.values == before)
    }

    @Test("a checkpoint without num_batches_tracked loads as PyTorch loads it: the count starts at 0, said once")
    func missingBatchCount() throws {
        let url = try safeTensorsFixture("torch_module")
        let checkpoint = try Checkpoint(contentsOf: url)
        let model = TinyNet(seed: 6)
        #expect(model.bn.batchesTracked.value.scalars != [0])
        let withoutCount = CheckpointRenaming.rules([.ignore(prefix: "module.bn.num_batches_tracked"), .stripPrefix("module.")])
        let report = try checkpoint.load(into: model, renaming: withoutCount)
        #expect(report.countsStartedAtZero == ["bn.num_batches_tracked"] && report.missing.isEmpty)
        #expect(model.bn.batchesTracked.value.scalars == [0])
        #expect(model.bn.runningVar.value.scalars == TorchFixture.runningVar)
        #expect(report.note?.contains("bn.num_batches_tracked") == true)
        #expect(try checkpoint.load(into: model, renaming: CheckpointRenaming.rules([.stripPrefix("module.")])).note == nil)
        // Any other missing tensor stays an error that names it.
        let withoutMean = CheckpointRenaming.rules([.ignore(prefix: "module.bn.num_batches_tracked"),
                                                    .ignore(prefix: "module.bn.running_mean"), .stripPrefix("module.")])
        #expect(throws: CheckpointError.tensorSetMismatch(file: url.path, missing: ["bn.running_mean"], unexpected: [])) {
            try checkpoint.load(into: model, renaming: withoutMean)
        }
    }

    @Test("non-strict loading returns the missing, unexpected and ignored names and loads the rest")
    func nonStrict() throws {
        let checkpoint = try Checkpoint(contentsOf: try safeTensorsFixture("torch_module"))
        let model = TinyNet(seed: 5)
        let before = model.bn.runningVar.value
        let renaming = CheckpointRenaming.rules([
            .ignore(prefix: "module.bn.running_var"),
            .stripPrefix("module."),
            .replacePrefix("bn.bias", with: "bn.shift"),
        ])
        let report = try checkpoint.load(into: model, strict: false, renaming: renaming)
        #expect(report == CheckpointLoadReport(
            loaded: ["conv.weight", "bn.weight", "bn.running_mean", "bn.num_batches_tracked"],
            missing: ["bn.bias", "bn.running_var"],
            unexpected: ["module.bn.bias"],
            ignored: ["module.bn.running_var"]))
        #expect(model.bn.runningVar.value == before)
        #expect(model.bn.weight.value.scalars == TorchFixture.bnWeight)
    }

    @Test("a wrong shape names the tensor and both shapes, in both modes, and changes nothing")
    func wrongShape() throws {
        try withSafeTensorsTestDirectory { directory in
            let url = directory.appendingPathComponent("wide.safetensors")
            var writer = SafeTensorsWriter()
            let reference = TinyNet(seed: 6)
            for (name, parameter) in reference.namedParameters() {
                let value = name == "bn.running_mean" ? Tensor(zeros: [5]) : parameter.diskValue()
                writer.add(value, named: "module." + name, as: parameter.storesAsInteger ? .int64 : .float32)
            }
            try writer.write(to: url)
            let checkpoint = try Checkpoint(contentsOf: url)
            let model = TinyNet(seed: 7)
            let before = model.values
            let expected = CheckpointError.shapeMismatch(file: url.path, tensor: "bn.running_mean",
                                                         checkpointName: "module.bn.running_mean", expected: [4], found: [5])
            #expect(throws: expected) { try checkpoint.load(into: model, renaming: .stripPrefix("module.")) }
            #expect(throws: expected) { try checkpoint.load(into: model, strict: false, renaming: .stripPrefix("module.")) }
            #expect(model.values == before)
            #expect(expected.description.contains("'bn.running_mean'") && expected.description.contains("[4]")
                    && expected.description.contains("[5]"))
        }
    }

    @Test("integer buffers need integer tensors and real parameters need floating-point tensors")
    func wrongDType() throws {
        try withSafeTensorsTestDirectory { directory in
            let url = directory.appendingPathComponent("dtypes.safetensors")
            let reference = TinyNet(seed: 8)
            func write(_ dtypeFor: (String, Parameter) -> SafeTensorsDType) throws {
                var writer = SafeTensorsWriter()
                for (name, parameter) in reference.namedParameters() {
                    writer.add(parameter.diskValue().map { $0.rounded() }, named: name, as: dtypeFor(name, parameter))
                }
                try writer.write(to: url)
            }
            try write { _, _ in .float32 }
            #expect(throws: CheckpointError.dtypeMismatch(file: url.path, tensor: "bn.num_batches_tracked",
                                                          checkpointName: "bn.num_batches_tracked",
                                                          expected: "an integer dtype (I64)", found: .float32)) {
                try Checkpoint(contentsOf: url).load(into: TinyNet(seed: 9))
            }
            try write { name, parameter in name == "bn.weight" ? .int32 : (parameter.storesAsInteger ? .int64 : .float16) }
            #expect(throws: CheckpointError.dtypeMismatch(file: url.path, tensor: "bn.weight", checkpointName: "bn.weight",
                                                          expected: "a floating-point dtype (F32, F16, BF16, F64)",
                                                          found: .int32)) {
                try Checkpoint(contentsOf: url).load(into: TinyNet(seed: 9))
            }
        }
    }

    @Test("renaming that maps two tensors onto one parameter is ambiguous")
    func ambiguousRenaming() throws {
        try withSafeTensorsTestDirectory { directory in
            let url = directory.appendingPathComponent("twice.safetensors")
            let model = TinyNet(seed: 10)
            try Checkpoint.save(model, to: url)
            var writer = SafeTensorsWriter()
            let file = try SafeTensorsFile(contentsOf: url)
            for name in file.tensorNames {
                writer.add(try file.tensor(name), named: name, as: try file.info(name).dtype)
            }
            writer.add(model.bn.bias.value, named: "module.bn.bias")
            try writer.write(to: url)
            #expect(throws: CheckpointError.ambiguousName(file: url.path, tensor: "bn.bias",
                                                          sources: ["bn.bias", "module.bn.bias"])) {
                try Checkpoint(contentsOf: url).load(into: model, renaming: .stripPrefix("module."))
            }
        }
    }

    @Test("renaming rules compose left to right")
    func renamingRules() {
        let rules = CheckpointRenaming.rules([
            .stripPrefix("module."),
            .replace(".downsample.", with: ".shortcut."),
            .replacePrefix("fc.", with: "classifier."),
            .ignore(prefix: "aux."),
        ])
        #expect(rules.map("module.layer1.0.downsample.1.weight") == "layer1.0.shortcut.1.weight")
        #expect(rules.map("fc.bias") == "classifier.bias")
        #expect(rules.map("module.aux.head.weight") == nil)
        #expect(rules.map("conv1.weight") == "conv1.weight")
        #expect(CheckpointRenaming.stripPrefix("module.").map("layer.module.x") == "layer.module.x")
        #expect(CheckpointRenaming.identity.then(.stripPrefix("a.")).map("a.b") == "b")
        #expect(CheckpointRenaming { $0.uppercased() }.map("bn.weight") == "BN.WEIGHT")
    }

    @Test("a failed save leaves the old checkpoint intact and no temporary file behind")
    func atomicSave() throws {
        try withSafeTensorsTestDirectory { directory in
            let url = directory.appendingPathComponent("latest.safetensors")
            let model = TinyNet(seed: 11)
            try Checkpoint.save(model, to: url, metadata: ["epoch": "1"])
            let before = try Data(contentsOf: url)

            // The integer buffer (the only 8-byte dtype, so streamed first after the header) fails
            // while the temporary file is being written.
            model.bn.batchesTracked.value = Tensor(shape: [], scalars: [0.5])
            #expect(throws: SafeTensorsError.valueNotRepresentable(file: url.path, tensor: "bn.num_batches_tracked",
                                                                   dtype: .int64, index: 0, value: 0.5)) {
                try Checkpoint.save(model, to: url, metadata: ["epoch": "2"])
            }
            #expect(try Data(contentsOf: url) == before)
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["latest.safetensors"])
            #expect(try Checkpoint(contentsOf: url).metadataValue("epoch") == "1")

            model.bn.batchesTracked.value = Tensor(shape: [], scalars: [3])
            #expect(throws: SafeTensorsError.duplicateTensor(file: url.path, tensor: "conv.weight")) {
                try Checkpoint.save(model, to: url, extraTensors: [("conv.weight", Tensor(zeros: [1]))])
            }
            #expect(throws: CheckpointError.invalidMetadata(file: url.path, key: Checkpoint.extraTensorsMetadataKey,
                                                            reason: "the key is reserved for the list of extra tensors")) {
                try Checkpoint.save(model, to: url, metadata: [Checkpoint.extraTensorsMetadataKey: "[]"])
            }
            #expect(try Data(contentsOf: url) == before)
        }
    }

    @Test("metadata errors name the key; a bad extra-tensor list is rejected on open")
    func metadataErrors() throws {
        try withSafeTensorsTestDirectory { directory in
            let url = directory.appendingPathComponent("meta.safetensors")
            try Checkpoint.save(TinyNet(seed: 12), to: url, metadata: ["rng": "not json"])
            let checkpoint = try Checkpoint(contentsOf: url)
            #expect(throws: CheckpointError.missingMetadata(file: url.path, key: "epoch")) { try checkpoint.metadataValue("epoch") }
            #expect {
                try checkpoint.decodeMetadata(SeededGenerator.self, forKey: "rng")
            } throws: { error in
                guard case .invalidMetadata(file: url.path, key: "rng", reason: _)? = error as? CheckpointError else { return false }
                return true
            }
            #expect(throws: SafeTensorsError.tensorNotFound(file: url.path, tensor: "conv.weight")) {
                try checkpoint.extraTensor("conv.weight")  // a model tensor, not an extra one
            }

            for list in [#"["nope"]"#, "{}", "not json"] {
                var writer = SafeTensorsWriter(metadata: [Checkpoint.extraTensorsMetadataKey: list])
                writer.add(Tensor(zeros: [1]), named: "x")
                try writer.write(to: url)
                #expect {
                    try Checkpoint(contentsOf: url)
                } throws: { error in
                    guard case .invalidMetadata(file: url.path, key: Checkpoint.extraTensorsMetadataKey, reason: _)?
                            = error as? CheckpointError else { return false }
                    return true
                }
            }
        }
    }
}
