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

    /// A VGG-style binary net with max-pools and no residuals; at 48 channels its second binary
    /// convolution has 4 groups.
    static func vgg(_ c: Int) -> Sequential {
        Sequential {
            Conv2D(inputChannels: 3, outputChannels: c, kernelSize: 3, padding: 1)
            BatchNorm2D(channels: c)
            BinaryConv2D(inputChannels: c, outputChannels: c)
            BatchNorm2D(channels: c)
            MaxPool2D(kernelSize: 2)
            HardTanh()
            BinaryConv2D(inputChannels: c, outputChannels: 100, groups: c == 48 ? 4 : 1)
            BatchNorm2D(channels: 100)
            MaxPool2D(kernelSize: 2)
            PReLU(channels: 100)
            GlobalAvgPool()
            Linear(inputFeatures: 100, outputFeatures: 10)
        }
    }

    /// A residual net for 6×6 input: two binary convolutions per block with `activation` between
    /// them, a 1×1 shortcut without pooling, then `userLayer` and a binary classifier.
    static func residual(_ c: Int, activation: any TensorLayer, userLayer: any TensorLayer) -> Sequential {
        Sequential {
            Conv2D(inputChannels: 3, outputChannels: c, kernelSize: 3, padding: 1)
            BatchNorm2D(channels: c)
            Residual(body: Sequential {
                BinaryConv2D(inputChannels: c, outputChannels: 100)
                BatchNorm2D(channels: 100)
                activation
                BinaryConv2D(inputChannels: 100, outputChannels: 100)
                BatchNorm2D(channels: 100)
            }, shortcut: Sequential {
                Conv2D(inputChannels: c, outputChannels: 100, kernelSize: 1)
                BatchNorm2D(channels: 100)
            }, post: HardTanh())
            Identity()
            userLayer
            Flatten()
            BinaryLinear(inputFeatures: 100 * 6 * 6, outputFeatures: 10)
        }
    }

    /// The README's example model (seeded).
    static func readmeModel() -> Sequential {
        Initializer.withSeed(42) {
            Sequential {
                Conv2D(inputChannels: 3, outputChannels: 32, kernelSize: 3, padding: 1)
                BatchNorm2D(channels: 32)
                HardTanh()
                Residual(body: Sequential(named: [
                    ("binary_conv", BinaryConv2D(inputChannels: 32, outputChannels: 32,
                                                 inputQuantizer: SignActivation(quantizer: ApproxSign()))),
                    ("bn1", BatchNorm2D(channels: 32)),
                ]), post: HardTanh())
                GlobalAvgPool()
                Linear(inputFeatures: 32, outputFeatures: 10)
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
