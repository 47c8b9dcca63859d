import BiRealNet
import BNN
import BNNInference
import Foundation

/// Seeded models and inputs shared by the inference tests.
enum InferenceTestSupport {
    /// A Bi-Real Net with seeded weights and random BatchNorm parameters and statistics.
    static func model(_ configuration: BiRealNetConfiguration, seed: UInt64) -> BiRealNet {
        let model = Initializer.withSeed(seed) { BiRealNet(configuration) }
        randomise(model, seed: seed &+ 1000)
        return model
    }

    /// Gives every rank-1 parameter but the classifier's non-trivial values (γ, β, μ, σ², biases,
    /// PReLU slopes, learnable biases), so that every fold is exercised.
    static func randomise(_ model: any TensorLayer, seed: UInt64) {
        var g = SeededGenerator(seed: seed)
        for (name, parameter) in model.namedParameters() where parameter.value.rank == 1 && !name.hasPrefix("fc.") {
            let n = parameter.value.count
            if name.hasSuffix("running_var") {
                parameter.value = Tensor(randomUniform: [n], lower: 0.5, upper: 2, generator: &g)
            } else if name.hasSuffix("running_mean") {
                parameter.value = Tensor(randomNormal: [n], standardDeviation: 0.3, generator: &g)
            } else if name.hasSuffix("weight") {
                parameter.value = Tensor(randomUniform: [n], lower: 0.5, upper: 1.5, generator: &g)
            } else if name.hasSuffix("bias") {
                parameter.value = Tensor(randomNormal: [n], standardDeviation: 0.2, generator: &g)
            }
        }
    }

    /// N×H×W×3 normal images.
    static func images(batch: Int, height: Int, width: Int, seed: UInt64) -> Tensor {
        var g = SeededGenerator(seed: seed)
        return Tensor(randomNormal: [batch, height, width, 3], generator: &g)
    }

    /// max|a − b| / max|b|.
    static func relativeError(_ a: Tensor, _ b: Tensor) -> Float {
        precondition(a.shape == b.shape, "relativeError: shapes \(a.shape) and \(b.shape)")
        var difference: Float = 0, magnitude: Float = 0
        for (x, y) in zip(a.scalars, b.scalars) {
            difference = max(difference, abs(x - y))
            magnitude = max(magnitude, abs(y))
        }
        return difference / max(magnitude, .leastNormalMagnitude)
    }

    /// A fresh temporary file URL with the given extension.
    static func temporaryURL(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("bnninference-\(UUID().uuidString)-\(name)")
    }
}
