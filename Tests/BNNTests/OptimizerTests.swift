import Foundation
import Testing
import BNN
import BNNTestSupport

/// A small model: a latent-binary convolution weight (O×kH×kW×I in memory), a linear layer and
/// BatchNorm-like buffers, with PyTorch names.
private final class TinyModel: Module {
    let convWeight = Parameter(Tensor(zeros: [3, 2, 2, 2]), kind: .latentBinary, layout: .convolutionOHWI)
    let fcWeight = Parameter(Tensor(zeros: [4, 3]), kind: .real)
    let fcBias = Parameter(Tensor(zeros: [4]), kind: .real)
    let runningMean = Parameter(Tensor(shape: [4], scalars: [0.5, -1, 2, 0]), kind: .buffer)
    let batchesTracked = Parameter(Tensor(shape: [1], scalars: [7]), kind: .buffer, storesAsInteger: true)

    var ownParameters: [(name: String, parameter: Parameter)] {
        [("conv.weight", convWeight), ("fc.weight", fcWeight), ("fc.bias", fcBias),
         ("bn.running_mean", runningMean), ("bn.num_batches_tracked", batchesTracked)]
    }

    /// Sets every trainable value and gradient from a seed.
    func randomize(seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        for (_, p) in namedParameters() where p.isTrainable {
            p.value = Tensor(randomNormal: p.value.shape, generator: &generator)
            p.gradient = Tensor(randomNormal: p.value.shape, generator: &generator)
        }
    }

    /// Deterministic pseudo-gradients for step `step`.
    func setGradients(step: Int) {
        var generator = SeededGenerator(seed: 1000 + UInt64(step))
        for (_, p) in namedParameters() where p.isTrainable {
            p.gradient = Tensor(randomNormal: p.value.shape, generator: &generator)
        }
    }
}

// MARK: - PyTorch reference fixture

private struct Reference: Decodable {
    struct Case: Decodable {
        struct Group: Decodable {
            var lr_multiplier: Double
            var weight_decay: Double?
        }
        struct ParameterSpec: Decodable {
            var name: String
            var shape: [Int]
            var kind: String
            var group: Int
            var initial: [Float]
        }
        var name: String
        var kind: String
        var options: [String: Double]
        var groups: [Group]
        var learning_rates: [Double]
        var parameters: [ParameterSpec]
        var gradients: [[[Float]]]
        var after_step: [[[Float]]]
        var final_state: [String: FloatOrList]
    }
    enum FloatOrList: Decodable {
        case scalar(Float), list([Float])
        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let value = try? container.decode(Float.self) { self = .scalar(value) } else {
                self = .list(try container.decode([Float].self))
            }
        }
    }
    struct Clip: Decodable {
        var max_norm: Float
        var gradients: [[Float]]
        var norm: Float
        var clipped: [[Float]]
    }
    var cases: [Case]
    var clip: Clip

    static func load() throws -> Reference {
        let url = try #require(Bundle.module.url(forResource: "optimizer_reference", withExtension: "json",
                                                 subdirectory: "Fixtures/optim"))
        return try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
    }
}

/// Parameters in BNN form built from PyTorch-layout values (the conv weight is permuted to OHWI).
private func makeParameter(_ spec: Reference.Case.ParameterSpec) -> Parameter {
    let kind = ParameterKind(rawValue: spec.kind) ?? .real
    let isConvolution = spec.shape.count == 4
    let disk = Tensor(shape: spec.shape, scalars: spec.initial)
    let parameter = Parameter(isConvolution ? disk.permuted([0, 2, 3, 1]) : disk, kind: kind,
                              layout: isConvolution ? .convolutionOHWI : .plain)
    return parameter
}

/// The largest element-wise difference relative to the largest magnitude of the reference tensor,
/// `max|a − b| / max|b|` — the relative error of the tensor as a whole. (Element-wise relative error
/// is meaningless for elements that nearly cancel, such as θ − η·g ≈ 0, where one rounding of the
/// product is amplified arbitrarily.)
private func worstRelativeError(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    let scale = max(b.map { abs($0) }.max() ?? 0, 1e-30)
    return zip(a, b).map { abs($0 - $1) }.max().map { $0 / scale } ?? 0
}

@Suite("Optimizers")
struct OptimizerTests {
    @Test("SGD, Adam and AdamW match torch.optim step by step, with parameter groups")
    func pytorchParity() throws {
        let reference = try Reference.load()
        #expect(reference.cases.count == 5)
        for testCase in reference.cases {
            let parameters = testCase.parameters.map(makeParameter)
            let named = zip(testCase.parameters, parameters).map { (name: $0.name, parameter: $1) }
            var groups = ParameterGroups(named, options: ParameterGroupOptions(
                learningRateMultiplier: testCase.groups[0].lr_multiplier,
                weightDecay: testCase.groups[0].weight_decay))
            let second = testCase.groups[1]
            groups = groups.splitting("second", options: ParameterGroupOptions(
                learningRateMultiplier: second.lr_multiplier, weightDecay: second.weight_decay)) { name, _ in
                testCase.parameters.first { $0.name == name }?.group == 1
            }
            let options = testCase.options
            let optimizer: any Optimizer
            switch testCase.kind {
            case "sgd":
                optimizer = SGD(groups, learningRate: 0, momentum: options["momentum"]!,
                                dampening: options["dampening"]!, nesterov: options["nesterov"] == 1,
                                weightDecay: options["weight_decay"]!)
            case "adam":
                optimizer = Adam(groups, learningRate: 0, beta1: options["beta1"]!, beta2: options["beta2"]!,
                                 epsilon: options["epsilon"]!, weightDecay: options["weight_decay"]!)
            default:
                optimizer = AdamW(groups, learningRate: 0, beta1: options["beta1"]!, beta2: options["beta2"]!,
                                  epsilon: options["epsilon"]!, weightDecay: options["weight_decay"]!)
            }
            for (step, learningRate) in testCase.learning_rates.enumerated() {
                for (parameter, spec) in zip(parameters, testCase.parameters.indices) {
                    let gradient = Tensor(shape: testCase.parameters[spec].shape,
                                          scalars: testCase.gradients[step][spec])
                    parameter.gradient = parameter.layout == .convolutionOHWI
                        ? gradient.permuted([0, 2, 3, 1]) : gradient
                }
                optimizer.learningRate = learningRate
                optimizer.step()
                for (index, parameter) in parameters.enumerated() {
                    let error = worstRelativeError(parameter.diskValue().scalars, testCase.after_step[step][index])
                    #expect(error < 1e-6, "\(testCase.name) step \(step + 1) \(testCase.parameters[index].name): \(error)")
                }
            }
            // Final optimizer state, named and laid out as in PyTorch.
            let state = Dictionary(uniqueKeysWithValues: optimizer.stateTensors().map { ($0.name, $0.tensor) })
            #expect(state["step"]?.scalars == [Float(testCase.learning_rates.count)])
            for (name, expected) in testCase.final_state {
                switch expected {
                case let .scalar(value):
                    #expect(name == "step" && state[name]?.scalars == [value], "\(testCase.name) \(name)")
                case let .list(values):
                    let found = try #require(state[name], "\(testCase.name): missing \(name)")
                    let error = worstRelativeError(found.scalars, values)
                    #expect(error < 1e-6, "\(testCase.name) \(name): \(error)")
                }
            }
            let slotCount = state.keys.filter { $0 != "step" }.count
            #expect(slotCount == testCase.final_state.keys.filter { $0 != "step" }.count, "\(testCase.name)")
        }
    }

    @Test("SGD with momentum by hand: first step copies the gradient into the buffer")
    func sgdMomentumByHand() {
        let p = Parameter(Tensor(shape: [2], scalars: [1, -2]), kind: .real)
        let optimizer = SGD(ParameterGroups([("w", p)]), learningRate: 0.5, momentum: 0.9, dampening: 0.5)
        p.gradient = Tensor(shape: [2], scalars: [1, 2])
        optimizer.step()   // b = g = [1, 2]; θ = [1, −2] − 0.5·[1, 2]
        #expect(p.value.scalars == [0.5, -3])
        p.gradient = Tensor(shape: [2], scalars: [2, 0])
        optimizer.step()   // b = 0.9·[1, 2] + 0.5·[2, 0] = [1.9, 1.8]; θ −= 0.5·b
        #expect(abs(p.value.scalars[0] - (0.5 - 0.95)) < 1e-6)
        #expect(abs(p.value.scalars[1] - (-3 - 0.9)) < 1e-6)
    }

    @Test("Adam's first step moves every weight by about the learning rate against its gradient")
    func adamFirstStepByHand() {
        let p = Parameter(Tensor(shape: [3], scalars: [0, 1, -1]), kind: .real)
        let optimizer = Adam(ParameterGroups([("w", p)]), learningRate: 0.01)
        p.gradient = Tensor(shape: [3], scalars: [4, -0.5, 1e-3])
        optimizer.step()
        // m̂ = g, v̂ = g², so the step is lr·g/(|g| + ε) ≈ lr·sign(g).
        let expected: [Float] = [-0.01, 1.01, -1 - 0.01 * 1e-3 / (1e-3 + 1e-8)]
        for (found, want) in zip(p.value.scalars, expected) { #expect(abs(found - want) < 1e-6) }
    }

    @Test("PyTorch's default weight decay: 0 for Adam, 0.01 for AdamW; AdamW decays decoupled")
    func adamWeightDecayDefaults() {
        let a = Parameter(Tensor(shape: [1], scalars: [2]), kind: .real)
        let b = Parameter(Tensor(shape: [1], scalars: [2]), kind: .real)
        let adam = Adam(ParameterGroups([("a", a)]), learningRate: 0.1)
        let adamW = AdamW(ParameterGroups([("b", b)]), learningRate: 0.1)
        #expect(adam.rule.weightDecay == 0 && adamW.rule.weightDecay == 0.01)
        adam.step()   // zero gradient: no move
        adamW.step()  // zero gradient: only θ·(1 − 0.1·0.01)
        #expect(a.value.scalars == [2])
        #expect(b.value.scalars == [2 * Float(1 - 0.1 * 0.01)])
    }

    @Test("Groups: buffers are never optimized; rules give no decay and weight clipping per group")
    func groupsAndBuffers() {
        let model = TinyModel()
        model.randomize(seed: 3)
        let buffersBefore = model.namedParameters().filter { !$0.parameter.isTrainable }.map(\.parameter.value)
        let groups = ParameterGroups(model.namedParameters())
            .splitting("latent_binary", options: ParameterGroupOptions(weightDecay: 0, weightClip: 1),
                       where: ParameterGroups.isLatentBinary)
            .splitting("no_decay", options: ParameterGroupOptions(learningRateMultiplier: 0),
                       where: ParameterGroups.isBiasOrNormalization)
        #expect(groups.groups.map(\.name) == ["default", "latent_binary", "no_decay"])
        #expect(groups.groups.map { $0.parameters.map(\.name) } == [["fc.weight"], ["conv.weight"], ["fc.bias"]])
        #expect(!groups.allParameters.contains { !$0.parameter.isTrainable })

        let biasBefore = model.fcBias.value
        let weightBefore = model.fcWeight.value, weightGradient = model.fcWeight.gradient
        let optimizer = SGD(groups, learningRate: 10, weightDecay: 0.5)
        optimizer.step()
        let buffersAfter = model.namedParameters().filter { !$0.parameter.isTrainable }.map(\.parameter.value)
        #expect(buffersAfter == buffersBefore)
        #expect(model.fcBias.value == biasBefore)                       // multiplier 0
        #expect(model.convWeight.value.maxAbs() == 1)                   // lr 10 saturates, clip holds
        #expect(model.fcWeight.value.maxAbs() > 1)                      // no clip outside the group
        // The default group decays: θ − 10·(g + 0.5·θ) for fc.weight.
        let expected = weightBefore - 10 * (weightGradient + 0.5 * weightBefore)
        #expect(GradientCheck.maxRelativeError(model.fcWeight.value, expected) < 1e-6)
        let optimizerState = optimizer.stateTensors().map(\.name)
        #expect(optimizerState == ["step"])                             // plain SGD has no slots
    }

    @Test("A shared parameter listed twice is optimized once")
    func duplicateParameter() {
        let shared = Parameter(Tensor(shape: [1], scalars: [1]), kind: .real)
        let groups = ParameterGroups([("a.weight", shared), ("b.weight", shared)])
        #expect(groups.allParameters.map(\.name) == ["a.weight"])
        shared.gradient = Tensor(shape: [1], scalars: [1])
        SGD(groups, learningRate: 0.25).step()
        #expect(shared.value.scalars == [0.75])
    }

    @Test("clip_grad_norm_ parity: returned norm and clipped gradients")
    func clippingMatchesPyTorch() throws {
        let clip = try Reference.load().clip
        let parameters = clip.gradients.map { values -> Parameter in
            let p = Parameter(Tensor(zeros: [values.count]), kind: .real)
            p.gradient = Tensor(shape: [values.count], scalars: values)
            return p
        }
        let norm = GradientClipping.clipGlobalNorm(parameters, maxNorm: clip.max_norm)
        #expect(abs(norm - clip.norm) <= 1e-6 * clip.norm)
        for (p, expected) in zip(parameters, clip.clipped) {
            #expect(worstRelativeError(p.gradient.scalars, expected) < 1e-6)
        }
        #expect(abs(GradientClipping.globalNorm(of: parameters) - clip.max_norm) < 1e-5)
    }

    @Test("Clipping leaves small gradients untouched and ignores buffers")
    func clippingBelowThreshold() {
        let p = Parameter(Tensor(zeros: [2]), kind: .real)
        p.gradient = Tensor(shape: [2], scalars: [3, 4])
        let buffer = Parameter(Tensor(shape: [1], scalars: [100]), kind: .buffer)
        #expect(GradientClipping.clipGlobalNorm([p, buffer], maxNorm: 5.5) == 5)
        #expect(p.gradient.scalars == [3, 4])
        #expect(GradientClipping.clipGlobalNorm([p], maxNorm: 1) == 5)
        #expect(abs(p.gradient.scalars[0] - 3 / (5 + 1e-6)) < 1e-7)
    }

    @Test("Save after 3 steps, load into a fresh model and optimizer: steps 4–6 match an uninterrupted run")
    func stateRoundTrip() throws {
        func makeOptimizer(_ model: TinyModel) -> any Optimizer {
            Adam(ParameterGroups(model.namedParameters())
                    .splitting("no_decay", options: ParameterGroupOptions(weightDecay: 0),
                               where: ParameterGroups.isBiasOrNormalization),
                 learningRate: 0.01, weightDecay: 0.1)
        }
        let uninterrupted = TinyModel()
        uninterrupted.randomize(seed: 11)
        let first = makeOptimizer(uninterrupted)
        var saved: [(name: String, tensor: Tensor)] = []
        var savedWeights: [Tensor] = []
        for step in 0..<6 {
            if step == 3 {
                saved = first.stateTensors()
                savedWeights = uninterrupted.namedParameters().map { $0.parameter.diskValue() }
            }
            uninterrupted.setGradients(step: step)
            first.step()
        }
        #expect(saved.map(\.name).contains("conv.weight.exp_avg"))
        #expect(saved.first { $0.name == "conv.weight.exp_avg_sq" }?.tensor.shape == [3, 2, 2, 2])   // PyTorch layout

        let resumed = TinyModel()
        for ((_, p), value) in zip(resumed.namedParameters(), savedWeights) { p.setDiskValue(value) }
        let second = makeOptimizer(resumed)
        try second.loadState(Dictionary(uniqueKeysWithValues: saved.map { ($0.name, $0.tensor) }))
        #expect(second.stepCount == 3)
        for step in 3..<6 {
            resumed.setGradients(step: step)
            second.step()
        }
        for ((name, a), (_, b)) in zip(uninterrupted.namedParameters(), resumed.namedParameters()) {
            #expect(a.value == b.value, "\(name)")
        }
        #expect(first.stateTensors().map(\.tensor) == second.stateTensors().map(\.tensor))
    }

    @Test("loadState names the missing, mis-shaped or unexpected tensor and leaves the optimizer intact")
    func loadStateErrors() throws {
        let model = TinyModel()
        model.randomize(seed: 5)
        let optimizer = SGD(ParameterGroups(model.namedParameters()), learningRate: 0.1, momentum: 0.9)
        optimizer.step()
        let good = Dictionary(uniqueKeysWithValues: optimizer.stateTensors().map { ($0.name, $0.tensor) })
        #expect(good.keys.sorted() == ["conv.weight.momentum_buffer", "fc.bias.momentum_buffer",
                                       "fc.weight.momentum_buffer", "step"])

        var missing = good
        missing["fc.bias.momentum_buffer"] = nil
        #expect(throws: OptimizerStateError.missingTensor(name: "fc.bias.momentum_buffer")) {
            try optimizer.loadState(missing)
        }
        var misShaped = good
        misShaped["conv.weight.momentum_buffer"] = Tensor(zeros: [3, 8])
        #expect(throws: OptimizerStateError.shapeMismatch(name: "conv.weight.momentum_buffer",
                                                          expected: [3, 2, 2, 2], found: [3, 8])) {
            try optimizer.loadState(misShaped)
        }
        var extra = good
        extra["fc.weight.exp_avg"] = Tensor(zeros: [4, 3])
        #expect(throws: OptimizerStateError.unexpectedTensor(name: "fc.weight.exp_avg")) {
            try optimizer.loadState(extra)
        }
        var badStep = good
        badStep["step"] = Tensor(shape: [1], scalars: [2.5])
        #expect(throws: OptimizerStateError.self) { try optimizer.loadState(badStep) }
        #expect(optimizer.stepCount == 1)
        let message = OptimizerStateError.shapeMismatch(name: "x", expected: [1], found: [2]).description
        #expect(message.contains("'x'") && message.contains("[2]") && message.contains("[1]"))
    }
}

@Suite("Exponential moving average of weights")
struct ExponentialMovingAverageTests {
    @Test("Update, swap in for evaluation, swap out, and save/load")
    func emaLifecycle() throws {
        let model = TinyModel()
        model.randomize(seed: 21)
        let initialWeight = model.fcWeight.value
        let ema = ExponentialMovingAverage(model.namedParameters(), decay: 0.75)
        model.fcWeight.value = initialWeight + Tensor(repeating: 4, shape: [4, 3])
        model.runningMean.value = Tensor(shape: [4], scalars: [1, 1, 1, 1])
        model.batchesTracked.value = Tensor(shape: [1], scalars: [8])
        ema.update()
        // shadow = 0.75·old + 0.25·new: fc.weight moved by 1, running_mean by a quarter of the change.
        let shadow = try #require(ema.shadow(named: "fc.weight"))
        #expect(GradientCheck.maxRelativeError(shadow, initialWeight + Tensor(repeating: 1, shape: [4, 3])) < 1e-6)
        #expect(ema.shadow(named: "bn.running_mean")?.scalars == [0.625, -0.5, 1.75, 0.25])
        #expect(ema.shadow(named: "bn.num_batches_tracked")?.scalars == [8])   // integer buffers are copied

        let trained = model.fcWeight.value
        let duringEvaluation = ema.withAveragedWeights { model.fcWeight.value }
        #expect(duringEvaluation == shadow)
        #expect(model.fcWeight.value == trained)
        #expect(!ema.isSwappedIn)

        let state = ema.stateTensors()
        #expect(state.map(\.name) == model.namedParameters().map(\.name))
        #expect(state.first?.tensor.shape == [3, 2, 2, 2])                       // PyTorch layout
        let restored = ExponentialMovingAverage(model.namedParameters(), decay: 0.75)
        try restored.loadState(Dictionary(uniqueKeysWithValues: state.map { ($0.name, $0.tensor) }))
        #expect(restored.shadow(named: "fc.weight") == shadow)
        #expect(throws: OptimizerStateError.missingTensor(name: "fc.bias")) {
            try restored.loadState(Dictionary(uniqueKeysWithValues: state.filter { $0.name != "fc.bias" }
                .map { ($0.name, $0.tensor) }))
        }
    }
}
