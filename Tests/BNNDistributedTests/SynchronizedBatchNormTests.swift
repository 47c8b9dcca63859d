import BNN
import BNNDistributed
import BNNTestSupport
import Testing

@Suite struct SynchronizedBatchNormTests {
    /// Two ranks, each normalising half of a batch with synchronised statistics, compute what one
    /// layer computes on the whole batch: outputs, input gradients, running statistics, and γ/β
    /// gradients that sum to the whole batch's.
    @Test(arguments: [[6, 3, 2, 5], [6, 5]])
    func halvesWithSynchronisedStatisticsEqualTheWholeBatch(shape: [Int]) throws {
        var generator = SeededGenerator(seed: 21)
        let input = Tensor(randomNormal: shape, mean: 0.5, standardDeviation: 2, generator: &generator)
        let outputGradient = Tensor(randomNormal: shape, generator: &generator)
        let whole = Self.layer()
        let expectedOutput = whole.forward(input, mode: .training)
        let expectedInputGradient = whole.backward(outputGradient)

        let half = input.count / 2
        func part(_ tensor: Tensor, _ rank: Int) -> Tensor {
            Tensor(shape: [shape[0] / 2] + shape.dropFirst(), scalars: Array(tensor.scalars[(rank * half)..<((rank + 1) * half)]))
        }
        let results = runRanks(2) { communicator -> (Tensor, Tensor, BatchNorm2D) in
            let layer = Self.layer()
            #expect(SynchronizedBatchNorm.install(in: layer, communicator: communicator) == 1)
            let output = layer.forward(part(input, communicator.rank), mode: .training)
            return (output, layer.backward(part(outputGradient, communicator.rank)), layer)
        }
        let ranks = try results.map { try $0.get() }
        let output = Tensor(shape: shape, scalars: ranks[0].0.scalars + ranks[1].0.scalars)
        let inputGradient = Tensor(shape: shape, scalars: ranks[0].1.scalars + ranks[1].1.scalars)
        #expect(GradientCheck.maxRelativeError(output, expectedOutput) < 1e-5)
        #expect(GradientCheck.maxRelativeError(inputGradient, expectedInputGradient) < 1e-5)
        for layer in ranks.map(\.2) {
            #expect(GradientCheck.maxRelativeError(layer.runningMean.value, whole.runningMean.value) < 1e-6)
            #expect(GradientCheck.maxRelativeError(layer.runningVariance.value, whole.runningVariance.value) < 1e-6)
        }
        let weightGradient = ranks[0].2.weight.gradient + ranks[1].2.weight.gradient
        let biasGradient = ranks[0].2.bias.gradient + ranks[1].2.bias.gradient
        #expect(GradientCheck.maxRelativeError(weightGradient, whole.weight.gradient) < 1e-5)
        #expect(GradientCheck.maxRelativeError(biasGradient, whole.bias.gradient) < 1e-5)
        // Without synchronisation the halves' statistics differ from the whole batch's.
        let local = Self.layer()
        let localOutput = local.forward(part(input, 0), mode: .training)
        #expect(GradientCheck.maxRelativeError(localOutput, ranks[0].0) > 1e-3)
    }

    static func layer() -> BatchNorm2D {
        let layer = BatchNorm2D(channels: 5)
        layer.weight.value = Tensor(shape: [5], scalars: [1, 0.5, 2, -1, 1.5])
        layer.bias.value = Tensor(shape: [5], scalars: [0, 0.1, -0.2, 0.3, 0])
        return layer
    }
}
