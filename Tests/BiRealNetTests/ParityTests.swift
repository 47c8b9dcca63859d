import BiRealNet
import BNN
import BNNTestSupport
import Foundation
import Testing

/// Parity with the PyTorch reference (`tools/reference/birealnet.py`): a reduced Bi-Real Net 18
/// (widths 8–64, 10 classes, small stem, 2×3×32×32 input) in both variants, compared on every quantity
/// the fixtures hold (see `tools/reference/README.md`).
///
/// Tolerances:
/// - logits, loss: 1e-4 (relative above magnitude 1, absolute below), as the issue requires;
/// - gradients, per tensor: `max|Δ| ≤ 1e-4 · max|g_ref| + 1e-6`. The reference gradients reach 58 in
///   magnitude because the variance normalisation and the 2 − 2|x| estimator amplify them through 16
///   blocks, so a fixed absolute bound would be meaningless for the large tensors and too loose for the
///   small ones; PyTorch's own float32 result deviates from float64 by at most 7.1e-6 of that scale;
/// - BatchNorm statistics 1e-5; optimizer steps (fed the fixture gradients) 1e-6.
///
/// Sign flips: the fixture metadata records that no value fed to a sign function lies within 1e-6 of
/// zero other than exact zeros (175 of them in evaluation mode, which both sides map to 0), and that
/// float32 rounding flips no sign against float64. A flip would show up as a gradient or logit
/// mismatch, so the tests allow none.
@Suite struct ParityTests {
    struct FixtureMissing: Error { var name: String }

    static let variants: [BiRealNetConfiguration.Variant] = [.reference, .paper]

    static func fixture(_ name: String) throws -> SafeTensorsFile {
        guard let url = Bundle.module.url(forResource: name, withExtension: "safetensors", subdirectory: "Fixtures") else {
            throw FixtureMissing(name: name)
        }
        return try SafeTensorsFile(contentsOf: url)
    }

    /// The reduced model loaded with the fixture's initial weights.
    static func model(_ variant: BiRealNetConfiguration.Variant) throws -> (BiRealNet, SafeTensorsFile) {
        let file = try fixture("birealnet_small_\(variant.rawValue)")
        let model = BiRealNet(.birealnet18(classes: 10, stem: .small, variant: variant, widths: [8, 16, 32, 64]))
        let report = try Checkpoint(file: file).load(into: model, strict: false)
        #expect(report.missing.isEmpty, "parameters missing from the fixture: \(report.missing)")
        return (model, file)
    }

    static func input(_ file: SafeTensorsFile) throws -> (Tensor, [Int]) {
        (Tensor.fromNCHW(try file.tensor("input")), try file.integers("labels").map { Int($0) })
    }

    /// A parameter's gradient in checkpoint layout.
    static func diskGradient(_ p: Parameter) -> Tensor {
        p.layout == .convolutionOHWI ? p.gradient.permuted([0, 3, 1, 2]) : p.gradient
    }

    static func maxAbsDifference(_ a: Tensor, _ b: Tensor) -> Float {
        zip(a.scalars, b.scalars).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    @Test(arguments: variants)
    func evaluationLogits(variant: BiRealNetConfiguration.Variant) throws {
        let (model, file) = try Self.model(variant)
        let (x, _) = try Self.input(file)
        let logits = model.forward(x, mode: .evaluation)
        #expect(GradientCheck.maxRelativeError(logits, try file.tensor("eval_logits")) <= 1e-4)
    }

    @Test(arguments: variants)
    func trainingForwardBackwardAndStatistics(variant: BiRealNetConfiguration.Variant) throws {
        let (model, file) = try Self.model(variant)
        let (x, labels) = try Self.input(file)
        let logits = model.forward(x, mode: .training)
        #expect(GradientCheck.maxRelativeError(logits, try file.tensor("train_logits")) <= 1e-4)
        let (loss, gradient) = SoftmaxCrossEntropy()(logits, labels: labels)
        let expectedLoss = try file.tensor("loss").scalars[0]
        #expect(abs(loss - expectedLoss) <= 1e-4 * max(1, abs(expectedLoss)))

        model.zeroGradients()
        _ = model.backward(gradient)
        var compared = 0
        for (name, p) in model.namedParameters() {
            if p.isTrainable {
                let expected = try file.tensor("grad.\(name)")
                let bound = 1e-4 * expected.maxAbs() + 1e-6
                let error = Self.maxAbsDifference(Self.diskGradient(p), expected)
                #expect(error <= bound, "grad.\(name): max |Δ| \(error) > \(bound)")
                compared += 1
            } else {
                let expected = try file.tensor("after_train.\(name)")
                #expect(Self.maxAbsDifference(p.diskValue(), expected) <= 1e-5, "after_train.\(name)")
            }
        }
        #expect(compared == model.trainableParameters.count)

        let evalAfter = model.forward(x, mode: .evaluation)
        #expect(GradientCheck.maxRelativeError(evalAfter, try file.tensor("eval_logits_after_train")) <= 1e-4)
    }

    @Test(arguments: variants)
    func optimizerStepsFromTheReferenceGradients(variant: BiRealNetConfiguration.Variant) throws {
        let optimFile = try Self.fixture("birealnet_small_\(variant.rawValue)_optim")
        for optimizerName in ["adam", "sgd"] {
            let (model, file) = try Self.model(variant)
            let named = model.namedParameters()
            for (name, p) in named where p.isTrainable {
                let g = try file.tensor("grad.\(name)")
                p.gradient = p.layout == .convolutionOHWI ? g.permuted([0, 2, 3, 1]) : g
            }
            let groups = ParameterGroups(named)
            let optimizer: any Optimizer = optimizerName == "adam"
                ? Adam(groups, learningRate: 1e-3)
                : SGD(groups, learningRate: 0.1, momentum: 0.9, weightDecay: 1e-4)
            optimizer.step()
            for (name, p) in named where p.isTrainable {
                let expected = try optimFile.tensor("\(optimizerName).\(name)")
                #expect(Self.maxAbsDifference(p.diskValue(), expected) <= 1e-6, "\(optimizerName).\(name)")
            }
        }
    }
}
