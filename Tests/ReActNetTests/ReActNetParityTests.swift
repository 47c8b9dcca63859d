import BNN
import BNNTestSupport
import Foundation
import ReActNet
import Testing

/// Parity with the PyTorch reference `tools/reference/reactnet.py` (fixtures from
/// `make_reactnet_fixtures.py`): a reduced ReAct-ResNet-18 (widths 8–16, checkpoint names with
/// DataParallel's `module.` prefix) and a reduced ReActNet-A holding both block types (a width-doubling
/// block at stride 1 and at stride 2, a same-width block; the authors' flat binary `weights`), on
/// evaluation and training logits, loss, every gradient and one Adam step.
///
/// Tolerances: logits and loss 1e-4 (relative above magnitude 1); gradients per tensor
/// `max|Δ| ≤ 1e-4 · max|g_ref| + 1e-6`; the Adam step, fed the reference gradients, 1e-6. No sign flips: the fixture records that the
/// smallest value fed to a sign is above 1e-5, a hundred times PyTorch's own float32-vs-float64 deviation.
@Suite struct ReActNetParityTests {
    struct FixtureMissing: Error { var name: String }

    static let cases: [(fixture: String, configuration: ReActNetConfiguration)] = [
        ("react_resnet_small", .reactResNet18(classes: 10, stem: .small, widths: [8, 8, 16, 16])),
        ("reactnet_a_small", .reactNetA(classes: 10, stem: .small, widths: [8, 16, 32, 32])),
    ]

    static func load(_ index: Int) throws -> (Sequential, SafeTensorsFile) {
        let (name, configuration) = cases[index]
        guard let url = Bundle.module.url(forResource: name, withExtension: "safetensors", subdirectory: "Fixtures") else {
            throw FixtureMissing(name: name)
        }
        let file = try SafeTensorsFile(contentsOf: url)
        let model = ReActNet.model(configuration)
        let report = try model.loadPyTorchWeights(from: Checkpoint(file: file), strict: false)
        #expect(report.missing.isEmpty, "parameters missing from \(name): \(report.missing)")
        return (model, file)
    }

    /// `tensor` (shaped like `p.value`) in checkpoint layout.
    static func diskLayout(_ tensor: Tensor, like p: Parameter) -> Tensor {
        Parameter(tensor, kind: p.kind, layout: p.layout).diskValue()
    }

    @Test(arguments: 0..<2)
    func logitsLossGradientsAndAdamStep(index: Int) throws {
        let (model, file) = try Self.load(index)
        let x = Tensor.fromNCHW(try file.tensor("input"))
        let labels = try file.integers("labels").map { Int($0) }
        let evaluation = model.forward(x, mode: .evaluation)
        #expect(GradientCheck.maxRelativeError(evaluation, try file.tensor("eval_logits")) <= 1e-4)

        let logits = model.forward(x, mode: .training)
        #expect(GradientCheck.maxRelativeError(logits, try file.tensor("train_logits")) <= 1e-4)
        let (loss, gradient) = SoftmaxCrossEntropy()(logits, labels: labels)
        let expectedLoss = try file.tensor("loss").scalars[0]
        #expect(abs(loss - expectedLoss) <= 1e-4 * max(1, abs(expectedLoss)))

        model.zeroGradients()
        _ = model.backward(gradient)
        var compared = 0
        for (name, p) in model.namedParameters() where p.isTrainable {
            let expected = try file.tensor("grad.\(name)")
            let found = Self.diskLayout(p.gradient, like: p)
            #expect(found.shape == expected.shape, "\(name): \(found.shape) vs \(expected.shape)")
            let scale = expected.maxAbs()
            let worst = zip(found.scalars, expected.scalars).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
            #expect(worst <= 1e-4 * scale + 1e-6, "gradient of \(name): max |Δ| \(worst), scale \(scale)")
            compared += 1
        }
        #expect(compared == model.trainableParameters.count && compared > 40)

        // The step is fed the reference's gradients: Adam's first step moves every weight by about the
        // learning rate in the direction of its gradient, so a gradient within rounding of zero (those of
        // weights whose clipped estimator passes almost nothing) may point either way in float32.
        for (name, p) in model.namedParameters() where p.isTrainable {
            let carrier = Parameter(p.value, kind: p.kind, layout: p.layout)
            carrier.setDiskValue(try file.tensor("grad.\(name)"))
            p.gradient = carrier.value
        }
        Adam(ParameterGroups(model.namedParameters()), learningRate: 1e-3).step()
        for (name, p) in model.namedParameters() where p.isTrainable {
            let expected = try file.tensor("adam.\(name)")
            #expect(GradientCheck.maxRelativeError(p.diskValue(), expected) <= 1e-6, "Adam step of \(name)")
        }
    }
}
