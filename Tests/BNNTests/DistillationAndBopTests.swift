import BNN
import BNNTestSupport
import Foundation
import Testing

/// ReActNet's recipes: the distributional loss against finite differences, Bop by hand, the routing
/// of binary weights to Bop and the rest to Adam.
@Suite struct DistillationAndBopTests {
    @Test func distributionalLossGradientAgainstFiniteDifferences() {
        var g = SeededGenerator(seed: 4)
        let teacher = Initializer.withSeed(9) { Sequential { Flatten(); Linear(inputFeatures: 12, outputFeatures: 5) } }
        let images = Tensor(randomNormal: [3, 2, 2, 3], generator: &g)
        var logits = Tensor(randomNormal: [3, 5], generator: &g) * 2
        let batch = LabeledBatch(images: images, labels: [1, 4, 0])
        for labelWeight: Float in [0, 0.3] {
            let loss = DistillationLoss(teacher: teacher, labelWeight: labelWeight, labelLoss: SoftmaxCrossEntropy(labelSmoothing: 0.1))
            let analytic = loss(logits, batch: batch).gradient
            let numeric = GradientCheck.numericalGradient(of: &logits, step: 1e-2) { Double(loss($0, batch: batch).loss) }
            #expect(GradientCheck.maxRelativeError(analytic, numeric) < 1e-3)
        }
        // KL(p ‖ q) is zero when the student reproduces the teacher and positive otherwise; its value is
        // ReActNet's cross-entropy minus the teacher's entropy.
        let loss = DistillationLoss(teacher: teacher)
        let teacherLogits = teacher.forward(images, mode: .evaluation)
        #expect(abs(loss(teacherLogits, batch: batch).loss) < 1e-6)
        let p = loss.teacherProbabilities(images)
        let crossEntropy = SoftmaxCrossEntropy()(logits, targets: p).loss
        let entropy = -p.scalars.map { Double($0) * log(Double($0)) }.reduce(0, +) / 3
        #expect(abs(loss(logits, batch: batch).loss - (crossEntropy - Float(entropy))) < 1e-5)
        #expect(loss(logits, batch: batch).loss > 0.01)
    }

    @Test func trainerDistillsWithoutTouchingTheTeacher() {
        let teacher = Initializer.withSeed(1) { Sequential { Flatten(); Linear(inputFeatures: 12, outputFeatures: 4) } }
        let student = Initializer.withSeed(2) { Sequential { Flatten(); Linear(inputFeatures: 12, outputFeatures: 4) } }
        let before = teacher.namedParameters().map { $0.parameter.value }
        let trainer = Trainer(model: student, optimizer: Adam(ParameterGroups(student.namedParameters()), learningRate: 0.05),
                              schedule: ConstantSchedule(learningRate: 0.05))
        trainer.distillation = DistillationLoss(teacher: teacher)
        var g = SeededGenerator(seed: 3)
        let batch = LabeledBatch(images: Tensor(randomNormal: [8, 2, 2, 3], generator: &g), labels: [0, 1, 2, 3, 0, 1, 2, 3])
        let first = trainer.trainStep(batch).loss
        var last = first
        for _ in 0..<30 { last = trainer.trainStep(batch).loss }
        #expect(last < first * 0.2, "KL \(first) → \(last)")
        #expect(teacher.namedParameters().map { $0.parameter.value } == before)
        #expect(teacher.namedParameters().allSatisfy { $0.parameter.gradient.maxAbs() == 0 })
    }

    @Test func bopStepByHand() {
        // γ = 0.5, τ = 0.1. Weights are binarised (sign(0) = +1); m = m + γ(g − m).
        let w = Parameter(Tensor(shape: [5], scalars: [0.3, -0.2, 1, -1, 0]), kind: .latentBinary)
        let bop = Bop(ParameterGroups([("w", w)]), gamma: 0.5, threshold: 0.1)
        w.gradient = Tensor(shape: [5], scalars: [1, -1, 0.1, 0.5, 0.4])
        bop.step()
        // m = [0.5, −0.5, 0.05, 0.25, 0.2]; w·m − τ = [0.05, 0, −0.05, −0.35, −0.1]: only the first flips
        // (w·m must exceed τ); w = 0 keeps Larq's sign(0) = +1.
        #expect(w.value.scalars == [-1, -1, 1, -1, 1])
        w.gradient = Tensor(shape: [5], scalars: [-1, 0, 0, 0, 0])
        bop.step()
        // m = [−0.25, −0.25, 0.025, 0.125, 0.1]; w·m = [0.25, 0.25, 0.025, −0.125, 0.1]: the first two flip.
        #expect(w.value.scalars == [1, 1, 1, -1, 1])
        let state = Dictionary(bop.stateTensors().map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
        #expect(state["w.m"]?.scalars == [-0.25, -0.25, 0.025, 0.125, 0.1])
        #expect(state["step"]?.scalars == [2])
    }

    @Test func routedOptimizerSendsBinaryWeightsToBopAndSavesOneState() throws {
        let model = Initializer.withSeed(5) {
            Sequential {
                BinaryConv2D(inputChannels: 2, outputChannels: 2, inputQuantizer: nil)
                BatchNorm2D(channels: 2)
            }
        }
        let optimizer = RoutedOptimizer.bopForBinaryWeights(model.namedParameters(), gamma: 0.1) {
            Adam($0, learningRate: 0.01)
        }
        #expect(optimizer.routes[0].parameters.map(\.kind) == [.latentBinary])
        #expect(optimizer.routes[1].parameters.count == 2)
        for (_, p) in model.namedParameters() where p.isTrainable { p.gradient = Tensor(repeating: 0.5, shape: p.value.shape) }
        optimizer.learningRate = 0.02
        optimizer.step()
        let binary = model.namedParameters().first { $0.name == "0.weight" }!.parameter
        #expect(binary.value.scalars.allSatisfy { abs($0) == 1 })
        #expect(optimizer.stepCount == 1)
        let saved = optimizer.stateTensors()
        #expect(saved.filter { $0.name == "step" }.count == 1)
        #expect(Set(saved.map(\.name)).isSuperset(of: ["0.weight.m", "1.weight.exp_avg", "1.bias.exp_avg_sq", "step"]))

        let restored = RoutedOptimizer.bopForBinaryWeights(model.namedParameters()) { Adam($0) }
        try restored.loadState(Dictionary(saved.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a }))
        #expect(restored.stateTensors().map(\.tensor) == saved.map(\.tensor))
        var extra = Dictionary(saved.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
        extra["9.weight.m"] = Tensor(zeros: [1])
        #expect(throws: OptimizerStateError.self) { try restored.loadState(extra) }
        #expect(restored.stateTensors().map(\.tensor) == saved.map(\.tensor))
    }
}
