/// Weight initialisation and the process-wide seeded generator layers draw from, like
/// `torch.manual_seed`: call ``seed(_:)`` before building a model for reproducible weights.
public enum Initializer {
    nonisolated(unsafe) private static var sharedGenerator = SeededGenerator(seed: 0)

    /// Reseeds the generator used by layer initialisers.
    public static func seed(_ seed: UInt64) { sharedGenerator = SeededGenerator(seed: seed) }

    /// Runs `body` with the shared generator (not thread-safe: build models on one thread).
    public static func withGenerator<R>(_ body: (inout SeededGenerator) -> R) -> R { body(&sharedGenerator) }

    /// Kaiming (He) normal initialisation, fan-in mode, gain √2 (PyTorch `kaiming_normal_` defaults):
    /// samples N(0, 2 / fanIn).
    public static func kaimingNormal(shape: [Int], fanIn: Int) -> Tensor {
        withGenerator { Tensor(randomNormal: shape, standardDeviation: (2 / Float(max(1, fanIn))).squareRoot(), generator: &$0) }
    }

    /// Uniform in ±1/√fanIn, PyTorch's bias initialisation for linear and convolution layers.
    public static func fanInUniform(shape: [Int], fanIn: Int) -> Tensor {
        let bound = 1 / Float(max(1, fanIn)).squareRoot()
        return withGenerator { Tensor(randomUniform: shape, lower: -bound, upper: bound, generator: &$0) }
    }
}
