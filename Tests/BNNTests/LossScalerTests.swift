import Testing
import BNN

@Suite("Dynamic loss scaling")
struct LossScalerTests {
    private func makeParameters() -> [Parameter] {
        [Parameter(Tensor(shape: [3], scalars: [1, -2, 0.5]), kind: .real),
         Parameter(Tensor(shape: [2], scalars: [0.25, 4]), kind: .real)]
    }

    private func setGradients(_ parameters: [Parameter], _ values: [[Float]], scale: Float) {
        for (p, v) in zip(parameters, values) { p.gradient = Tensor(shape: [v.count], scalars: v) * scale }
    }

    @Test("PyTorch GradScaler defaults")
    func defaults() {
        let scaler = DynamicLossScaler()
        #expect(scaler.scale == 65536 && scaler.growthFactor == 2 && scaler.backoffFactor == 0.5)
        #expect(scaler.growthInterval == 2000 && scaler.goodSteps == 0)
        #expect(scaler.scaled(Float(0.5)) == 32768)
    }

    @Test("A finite step unscales the gradients and matches an unscaled optimizer step")
    func goodStepUnscales() {
        let gradients: [[Float]] = [[0.1, -0.2, 0.3], [1.5, -0.5]]
        let scaled = makeParameters(), plain = makeParameters()
        let scaledOptimizer = Adam(ParameterGroups(scaled.map { ("p", $0) }), learningRate: 0.01)
        let plainOptimizer = Adam(ParameterGroups(plain.map { ("p", $0) }), learningRate: 0.01)
        let scaler = DynamicLossScaler(initialScale: 1024)
        setGradients(scaled, gradients, scale: scaler.scale)
        setGradients(plain, gradients, scale: 1)
        #expect(scaler.step(scaledOptimizer) == .applied(gradientNorm: nil))
        plainOptimizer.step()
        for (a, b) in zip(scaled, plain) { #expect(a.value == b.value) }   // 1024 is a power of two: exact
        #expect(scaler.goodSteps == 1 && scaler.scale == 1024)
    }

    @Test("Non-finite gradients: the step is skipped and the scale backs off")
    func skipAndBackoff() {
        let parameters = makeParameters()
        let before = parameters.map(\.value)
        let optimizer = SGD(ParameterGroups(parameters.map { ("p", $0) }), learningRate: 0.1)
        let scaler = DynamicLossScaler(initialScale: 256, growthInterval: 3)
        setGradients(parameters, [[1, 1, 1], [1, 1]], scale: 1)
        scaler.step(optimizer)
        #expect(scaler.goodSteps == 1)
        let afterGood = parameters.map(\.value)
        #expect(afterGood != before)
        setGradients(parameters, [[1, .infinity, 1], [1, 1]], scale: 1)
        #expect(scaler.step(optimizer) == .skipped)
        #expect(parameters.map(\.value) == afterGood)
        #expect(optimizer.stepCount == 1)
        #expect(scaler.scale == 128 && scaler.goodSteps == 0)
        setGradients(parameters, [[1, 1, 1], [.nan, 1]], scale: 1)
        #expect(scaler.step(optimizer) == .skipped)
        #expect(scaler.scale == 64)
    }

    @Test("Growth after the interval of consecutive good steps, never to infinity")
    func growth() {
        let parameters = makeParameters()
        let optimizer = SGD(ParameterGroups(parameters.map { ("p", $0) }), learningRate: 0.1)
        let scaler = DynamicLossScaler(initialScale: 8, growthInterval: 3)
        for _ in 0..<2 {
            setGradients(parameters, [[1, 1, 1], [1, 1]], scale: 1)
            scaler.step(optimizer)
        }
        #expect(scaler.scale == 8 && scaler.goodSteps == 2)
        setGradients(parameters, [[1, 1, 1], [1, 1]], scale: 1)
        scaler.step(optimizer)
        #expect(scaler.scale == 16 && scaler.goodSteps == 0)

        let huge = DynamicLossScaler(initialScale: Float.greatestFiniteMagnitude / 1.5, growthInterval: 1)
        huge.update(foundNonFinite: false)
        #expect(huge.scale == Float.greatestFiniteMagnitude / 1.5 && huge.goodSteps == 0)
    }

    @Test("Clipping happens on the unscaled gradients")
    func clippingAfterUnscale() {
        let parameters = [Parameter(Tensor(zeros: [2]), kind: .real)]
        let optimizer = SGD(ParameterGroups([("w", parameters[0])]), learningRate: 1)
        let scaler = DynamicLossScaler(initialScale: 4096)
        setGradients(parameters, [[3, 4]], scale: scaler.scale)
        #expect(scaler.step(optimizer, maxGradientNorm: 1) == .applied(gradientNorm: 5))
        #expect(abs(parameters[0].value.scalars[0] + 0.6) < 1e-6 && abs(parameters[0].value.scalars[1] + 0.8) < 1e-6)
    }

    @Test("State save/load round trip and validation")
    func stateRoundTrip() throws {
        let scaler = DynamicLossScaler(initialScale: 1024, growthInterval: 10)
        for _ in 0..<4 { scaler.update(foundNonFinite: false) }
        scaler.update(foundNonFinite: true)
        for _ in 0..<3 { scaler.update(foundNonFinite: false) }
        let state = Dictionary(uniqueKeysWithValues: scaler.stateTensors().map { ($0.name, $0.tensor) })
        #expect(state.keys.sorted() == ["growth_tracker", "scale"])

        let restored = DynamicLossScaler(growthInterval: 10)
        try restored.loadState(state)
        #expect(restored.scale == 512 && restored.goodSteps == 3)
        for _ in 0..<7 { restored.update(foundNonFinite: false); scaler.update(foundNonFinite: false) }
        #expect(restored.scale == 1024 && restored.scale == scaler.scale && restored.goodSteps == scaler.goodSteps)

        var bad = state
        bad["scale"] = Tensor(shape: [1], scalars: [-1])
        #expect(throws: OptimizerStateError.self) { try restored.loadState(bad) }
        bad = state
        bad["growth_tracker"] = nil
        #expect(throws: OptimizerStateError.missingTensor(name: "growth_tracker")) { try restored.loadState(bad) }
        #expect(restored.scale == 1024)
    }
}
