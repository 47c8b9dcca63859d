import BNN
import BNNInference
import Foundation
import Testing

/// A naive float interpreter of an export plan, the reference the exporter's folds are checked with.
private enum PlanReference {
    static func run(_ steps: [ExportStep], _ input: Tensor) -> Tensor {
        steps.reduce(input) { apply($1, $0) }
    }

    static func sign(_ x: Float) -> Float { x > 0 ? 1 : (x < 0 ? -1 : 0) }

    static func perChannel(_ x: Tensor, _ f: (Float, Int) -> Float) -> Tensor {
        let c = x.shape.last!
        return Tensor(shape: x.shape, scalars: x.scalars.enumerated().map { f($0.element, $0.offset % c) })
    }

    static func convolution(_ s: ConvolutionStep, _ x: Tensor, binary: Bool) -> Tensor {
        let (n, h, w, ci) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let k = s.kernelSize, oh = (h + 2 * s.padding - k) / s.stride + 1, ow = (w + 2 * s.padding - k) / s.stride + 1
        let ig = ci / s.groups, og = s.outputChannels / s.groups
        let input = binary ? x.scalars.map(sign) : x.scalars
        let weight = binary ? s.weight.map(sign) : s.weight
        var out = [Float](repeating: 0, count: n * oh * ow * s.outputChannels)
        for b in 0..<n { for y in 0..<oh { for xo in 0..<ow { for o in 0..<s.outputChannels {
            var acc: Float = 0
            let g = o / og
            for ky in 0..<k { for kx in 0..<k {
                let iy = y * s.stride - s.padding + ky, ix = xo * s.stride - s.padding + kx
                guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                for i in 0..<ig {
                    acc += input[((b * h + iy) * w + ix) * ci + g * ig + i] * weight[((o * k + ky) * k + kx) * ig + i]
                }
            } }
            out[((b * oh + y) * ow + xo) * s.outputChannels + o] = s.scale[o] * acc + s.shift[o]
        } } } }
        return Tensor(shape: [n, oh, ow, s.outputChannels], scalars: out)
    }

    static func linear(_ s: LinearStep, _ x: Tensor, binary: Bool) -> Tensor {
        let n = x.shape[0]
        let input = binary ? x.scalars.map(sign) : x.scalars, weight = binary ? s.weight.map(sign) : s.weight
        var out = [Float](repeating: 0, count: n * s.outputFeatures)
        for b in 0..<n { for o in 0..<s.outputFeatures {
            var acc: Float = 0
            for i in 0..<s.inputFeatures { acc += input[b * s.inputFeatures + i] * weight[o * s.inputFeatures + i] }
            out[b * s.outputFeatures + o] = s.scale[o] * acc + s.shift[o]
        } }
        return Tensor(shape: [n, s.outputFeatures], scalars: out)
    }

    static func maxPool(_ x: Tensor, _ k: Int, _ stride: Int, _ padding: Int) -> Tensor {
        let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let oh = (h + 2 * padding - k) / stride + 1, ow = (w + 2 * padding - k) / stride + 1
        var out = [Float](repeating: -.infinity, count: n * oh * ow * c)
        for b in 0..<n { for y in 0..<oh { for xo in 0..<ow { for ch in 0..<c {
            for ky in 0..<k { for kx in 0..<k {
                let iy = y * stride - padding + ky, ix = xo * stride - padding + kx
                guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                let i = ((b * oh + y) * ow + xo) * c + ch
                out[i] = max(out[i], x.scalars[((b * h + iy) * w + ix) * c + ch])
            } }
        } } } }
        return Tensor(shape: [n, oh, ow, c], scalars: out)
    }

    static func apply(_ step: ExportStep, _ x: Tensor) -> Tensor {
        switch step {
        case let .convolution(s): return convolution(s, x, binary: false)
        case let .binaryConvolution(s): return convolution(s, x, binary: true)
        case let .linear(s): return linear(s, x, binary: false)
        case let .binaryLinear(s): return linear(s, x, binary: true)
        case let .scaleShift(scale, shift): return perChannel(x) { scale[$1] * $0 + shift[$1] }
        case let .addBias(bias): return perChannel(x) { $0 + bias[$1] }
        case .sign: return perChannel(x) { v, _ in sign(v) }
        case .relu: return perChannel(x) { v, _ in max(v, 0) }
        case let .prelu(slope): return perChannel(x) { $0 > 0 ? $0 : slope[$1] * $0 }
        case let .clamp(lo, hi): return perChannel(x) { v, _ in min(max(v, lo), hi) }
        case let .maxPool(k, stride, padding): return maxPool(x, k, stride, padding)
        case .globalAveragePool:
            let (n, hw, c) = (x.shape[0], x.shape[1] * x.shape[2], x.shape[3])
            var out = [Float](repeating: 0, count: n * c)
            for b in 0..<n { for p in 0..<hw { for ch in 0..<c { out[b * c + ch] += x.scalars[(b * hw + p) * c + ch] / Float(hw) } } }
            return Tensor(shape: [n, c], scalars: out)
        case .flatten: return x.reshaped([x.shape[0], x.count / x.shape[0]])
        case let .residual(r):
            let body = run(r.body, x), shortcut = run(r.shortcut, x)
            return run(r.post, Tensor(shape: body.shape, scalars: zip(body.scalars, shortcut.scalars).map(+)))
        case .averagePool, .concatenate:
            preconditionFailure("PlanReference: \(step) not used by these tests")
        }
    }
}

/// A layer the exporter does not know.
private final class MyAttention: TensorLayer {
    func forward(_ input: Tensor, mode: ForwardMode) -> Tensor { input }
    func backward(_ outputGradient: Tensor) -> Tensor { outputGradient }
}

/// A user's layer that lowers itself into existing steps (a ReLU then a clamp).
private final class MyCappedReLU: ExportableLayer {
    func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        Tensor(shape: input.shape, scalars: input.scalars.map { min(max($0, 0), 2) })
    }
    func backward(_ outputGradient: Tensor) -> Tensor { outputGradient }
    func exportSteps(path: String, exporter: ModelExporter) throws -> [ExportStep] { [.relu, .clamp(minimum: 0, maximum: 2)] }
}

@Suite("Module tree export into a plan")
struct ModelExporterTests {
    private func check(_ model: any TensorLayer, batch: Int, seed: UInt64) throws {
        InferenceTestSupport.randomise(model, seed: seed)
        let plan = try ModelExporter().plan(for: model)
        var g = SeededGenerator(seed: seed &+ 7)
        let input = Tensor(randomNormal: [batch, 6, 6, 3], generator: &g)
        let expected = model.forward(input, mode: .evaluation)
        let found = PlanReference.run(plan, input)
        #expect(found.shape == expected.shape)
        #expect(InferenceTestSupport.relativeError(found, expected) < 1e-5)
        #expect(!plan.contains { if case .scaleShift = $0 { true } else { false } }, "every BatchNorm folded")
    }

    @Test("VGG-style binary net with max-pools: plan equals the float evaluation", arguments: [3, 48, 100], [1, 7])
    func vggStyle(channels: Int, batch: Int) throws {
        try check(Initializer.withSeed(UInt64(channels)) { InferenceTestSupport.vgg(channels) }, batch: batch, seed: 11)
    }

    @Test("Residual net with a 1×1 shortcut and a user layer: plan equals the float evaluation", arguments: [3, 48, 100], [1, 7])
    func residualNet(channels: Int, batch: Int) throws {
        let model = Initializer.withSeed(UInt64(channels)) {
            InferenceTestSupport.residual(channels, activation: ReLU(), userLayer: MyCappedReLU())
        }
        try check(model, batch: batch, seed: 12)
    }

    @Test("The README's example model: plan equals the float evaluation", arguments: [1, 7])
    func readmeExample(batch: Int) throws {
        let model = InferenceTestSupport.readmeModel()
        try check(model, batch: batch, seed: 13)
    }

    @Test("An unknown layer is an error naming its path and type")
    func unknownLayer() {
        let layers: [(String, any TensorLayer)] = [
            ("stem", Conv2D(inputChannels: 3, outputChannels: 4, kernelSize: 1)),
            ("features", Sequential { ReLU(); ReLU(); ReLU(); MyAttention() }),
        ]
        let model = Sequential(named: layers)
        #expect(throws: ExportError(path: "features.3", typeName: "MyAttention",
                                    reason: "no export rule; conform it to ExportableLayer to lower it into existing steps")) {
            try ModelExporter().plan(for: model)
        }
        #expect(ExportError(path: "features.3", typeName: "MyAttention", reason: "x").description
                == "features.3: MyAttention cannot be exported: x")
    }
}
