import Foundation

/// Weight initialisation and the seeded generators layers draw from.
///
/// Layers draw their initial weights from the generator of the innermost ``withSeed(_:_:)`` scope of the
/// current task, or else from a process-wide generator (reseed it with ``seed(_:)``, like
/// `torch.manual_seed`). Scoped seeding keeps concurrent model builds (parallel tests, several models
/// on several threads) independent and reproducible:
///
/// ```swift
/// let model = Initializer.withSeed(42) { BiRealNet(.birealnet18(classes: 10)) }
/// ```
public enum Initializer {
    /// A generator shared by the layers built inside one scope.
    final class GeneratorBox: @unchecked Sendable {
        var generator: SeededGenerator
        let lock = NSLock()
        init(seed: UInt64) { generator = SeededGenerator(seed: seed) }
    }

    @TaskLocal static var scoped: GeneratorBox?
    private static let global = GeneratorBox(seed: 0)

    /// Reseeds the process-wide generator used outside ``withSeed(_:_:)`` scopes.
    public static func seed(_ seed: UInt64) {
        global.lock.lock()
        global.generator = SeededGenerator(seed: seed)
        global.lock.unlock()
    }

    /// Runs `body` with layer initialisation drawing from a fresh generator seeded with `seed`.
    public static func withSeed<R>(_ seed: UInt64, _ body: () throws -> R) rethrows -> R {
        try $scoped.withValue(GeneratorBox(seed: seed)) { try body() }
    }

    /// Runs `body` with the current generator (the scoped one, else the process-wide one), under a lock.
    public static func withGenerator<R>(_ body: (inout SeededGenerator) -> R) -> R {
        let box = scoped ?? global
        box.lock.lock()
        defer { box.lock.unlock() }
        return body(&box.generator)
    }

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
