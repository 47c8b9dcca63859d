import BNN
import Foundation
import ReActNet
import Testing

/// Names, shapes and sizes of the full-size models, and loading of the authors' checkpoint conventions.
@Suite struct ReActNetStructureTests {
    @Test func fullReActNetAHasTheAuthorsNamesAndSize() {
        let model = ReActNet.model(.reactNetA(classes: 1000))
        let names = Set(model.namedParameters().map(\.name))
        for name in ["feature.0.conv1.weight", "feature.0.bn1.running_var", "feature.1.move11.bias", "feature.1.binary_3x3.weight",
                     "feature.1.binary_pw_down1.weight", "feature.1.bn2_2.bias", "feature.3.binary_pw.weight",
                     "feature.3.bn2.weight", "feature.13.prelu2.weight", "feature.13.move23.bias", "fc.weight", "fc.bias"] {
            #expect(names.contains(name), "missing \(name)")
        }
        #expect(model.outputShape(forInputShape: [1, 224, 224, 3]) == [1, 1000])
        let summary = ModelSummary(model, inputShape: [1, 224, 224, 3])
        // 13 blocks of 3×3 and 1×1 binary convolutions (the reductions' two 1×1 branches) at 224 pixels.
        let binaryWeights = [(32, 64, 1), (64, 128, 2), (128, 128, 1), (128, 256, 2), (256, 256, 1), (256, 512, 2)]
            .map { i, o, _ in i * i * 9 + (o == i ? i * i : 2 * i * i) }.reduce(0, +)
            + 5 * (512 * 512 * 9 + 512 * 512) + 512 * 512 * 9 + 2 * 512 * 512 + 1024 * 1024 * 9 + 1024 * 1024
        #expect(summary.binaryParameters == binaryWeights)
        #expect(summary.binaryMACs > 4 * summary.realMACs)
    }

    @Test func resNetsHaveTorchvisionNamesAndParameterCounts() {
        // torchvision: resnet18 11,689,512 and resnet34 21,797,672 parameters with 1000 classes.
        let r18 = ReActNet.model(.resnet18())
        #expect(r18.trainableParameters.map(\.value.count).reduce(0, +) == 11_689_512)
        #expect(ReActNet.model(.resnet34()).trainableParameters.map(\.value.count).reduce(0, +) == 21_797_672)
        let names = r18.namedParameters().map(\.name)
        #expect(names.contains("layer2.0.downsample.0.weight") && names.contains("layer4.1.bn2.running_mean"))
        let react = ReActNet.model(.reactResNet18())
        let reactNames = Set(react.namedParameters().map(\.name))
        for name in ["layer1.0.move0.bias", "layer1.0.binary_conv.weight", "layer1.0.prelu.weight", "layer1.0.move2.bias",
                     "layer2.0.downsample.1.weight", "layer2.0.downsample.2.running_var", "fc.weight"] {
            #expect(reactNames.contains(name), "missing \(name)")
        }
        #expect(react.outputShape(forInputShape: [2, 224, 224, 3]) == [2, 1000])
    }

    @Test func stageOneCheckpointLoadsIntoStageTwo() throws {
        let configuration = ReActNetConfiguration.reactNetA(classes: 4, stem: .small, widths: [4, 8, 16])
        let stage1 = Initializer.withSeed(1) { ReActNet.model(configuration, binarizesWeights: false) }
        #expect(ModelSummary(stage1, inputShape: [1, 8, 8, 3]).binaryParameters == 0)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("reactnet-stage1-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try Checkpoint.save(stage1, to: url)
        let stage2 = Initializer.withSeed(2) { ReActNet.model(configuration) }
        try stage2.loadPyTorchWeights(from: url)
        #expect(stage2.namedParameters().map(\.parameter.value) == stage1.namedParameters().map(\.parameter.value))
        #expect(ModelSummary(stage2, inputShape: [1, 8, 8, 3]).binaryParameters > 0)
        // Stage 1 still binarises the activations: the inputs of its convolutions are signs.
        var g = SeededGenerator(seed: 3)
        let x = Tensor(randomNormal: [2, 8, 8, 3], generator: &g)
        #expect(stage1.forward(x, mode: .training).isFinite)
    }
}
