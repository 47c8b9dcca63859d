import BNN
import Foundation
import Testing
@testable import BNNData

@Suite("Transforms")
struct TransformTests {
    @Test func randomResizedCropStaysInsideAndInRange() {
        let crop = RandomResizedCrop()
        var generator = SeededGenerator(seed: 3)
        var areas = [Double]()
        for _ in 0..<2000 {
            let r = crop.sample(width: 500, height: 375, generator: &generator)
            #expect(r.x >= 0 && r.y >= 0 && r.x + r.width <= 500 && r.y + r.height <= 375 && r.width > 0 && r.height > 0)
            areas.append(Double(r.width * r.height) / Double(500 * 375))
        }
        #expect(areas.min()! >= 0.07 && areas.max()! <= 1.0)
        let mean = areas.reduce(0, +) / Double(areas.count)
        #expect(mean > 0.40 && mean < 0.60, "mean crop area \(mean)")
    }

    /// A very thin image never fits a sampled crop: torchvision falls back to the centre crop clamped to
    /// the ratio range.
    @Test func fallbackIsCentreCropAtTheRatioLimit() {
        var generator = SeededGenerator(seed: 1)
        let tall = RandomResizedCrop(scale: 0.99...1.0).sample(width: 10, height: 400, generator: &generator)
        // h = round(10 / (3/4)) = 13, top = (400 - 13) // 2 = 193.
        #expect(tall == PixelRegion(x: 0, y: 193, width: 10, height: 13))
        let wide = RandomResizedCrop(scale: 0.99...1.0).sample(width: 400, height: 10, generator: &generator)
        #expect(wide == PixelRegion(x: 193, y: 0, width: 13, height: 10))
    }

    @Test func evaluationSizesFollowTorchvision() {
        var generator = SeededGenerator(seed: 0)
        let plan = EvaluationTransform().plan(width: 500, height: 375, generator: &generator)
        #expect(plan.resizedWidth == 341 && plan.resizedHeight == 256)
        #expect(plan.window == PixelRegion(x: 58, y: 16, width: 224, height: 224))
        // (257 - 224) / 2 = 16.5 rounds half to even: 16.
        let odd = EvaluationTransform().plan(width: 257, height: 300, generator: &generator)
        #expect(odd.resizedWidth == 256 && odd.resizedHeight == 298 && odd.window.y == 37)
    }

    @Test func normalisationMatchesToTensorThenNormalize() {
        let n = Normalization.imageNet
        var out = [Float](repeating: 0, count: 6)
        let pixels: [UInt8] = [0, 128, 255, 10, 20, 30]
        pixels.withUnsafeBufferPointer { p in
            out.withUnsafeMutableBufferPointer { n.apply(p.baseAddress!, width: 2, height: 1, flip: true, to: $0.baseAddress!) }
        }
        #expect(out[0] == (Float(10) / 255 - 0.485) / 0.229)
        #expect(out[5] == (Float(255) / 255 - 0.406) / 0.225)
    }

    @Test func randomErasingFillsOneRectangleWithNoise() {
        var pixels = [Float](repeating: 7, count: 32 * 32 * 3)
        var generator = SeededGenerator(seed: 5)
        pixels.withUnsafeMutableBufferPointer {
            RandomErasing(probability: 1).apply($0, width: 32, height: 32, generator: &generator)
        }
        let changed = pixels.indices.filter { pixels[$0] != 7 }
        #expect(changed.count >= Int(0.02 * 1024 * 3 * 0.5) && changed.count <= 1024 * 3 / 2)
        let rows = Set(changed.map { $0 / (32 * 3) }), columns = Set(changed.map { ($0 / 3) % 32 })
        #expect(rows.count * columns.count * 3 == changed.count, "erased area is one rectangle")
        var untouched = [Float](repeating: 7, count: 48)
        untouched.withUnsafeMutableBufferPointer {
            RandomErasing(probability: 0).apply($0, width: 4, height: 4, generator: &generator)
        }
        #expect(untouched.allSatisfy { $0 == 7 })
    }

    @Test func trainingTransformIsDeterministicPerGenerator() throws {
        let jpeg = try Fixtures.bytes("images/baseline.jpg")
        let processor = SampleProcessor(transform: TrainingTransform(imageSize: 32))
        func run(_ seed: UInt64) throws -> [Float] {
            var out = [Float](repeating: 0, count: processor.sampleFloatCount)
            var generator = SeededGenerator(seed: seed)
            try out.withUnsafeMutableBufferPointer { try processor.process(.encoded(jpeg), name: "b", generator: &generator, into: $0) }
            return out
        }
        #expect(try run(1) == run(1))
        #expect(try run(1) != run(2))
    }

    @Test func mixupBlendsMirroredPairsAndTargets() throws {
        let mixup = try Mixup(mixupAlpha: 1, cutmixAlpha: 0, labelSmoothing: 0.1, classCount: 4)
        var images = Tensor(shape: [2, 1, 1, 1], scalars: [1, 0])
        var generator = SeededGenerator(seed: 9)
        let (targets, lambdas) = mixup.apply(to: &images, labels: [0, 3], generator: &generator)
        let lambda = lambdas[0]
        #expect(lambda > 0 && lambda < 1)
        #expect(abs(images.scalars[0] - Float(lambda)) < 1e-6 && abs(images.scalars[1] - Float(1 - lambda)) < 1e-6)
        let on = Float(0.9 + 0.025), off = Float(0.025)
        #expect(abs(targets[0, 0] - (on * Float(lambda) + off * Float(1 - lambda))) < 1e-6)
        #expect(abs(targets[0, 3] - (off * Float(lambda) + on * Float(1 - lambda))) < 1e-6)
        for row in 0..<2 { #expect(abs((0..<4).map { targets[row, $0] }.reduce(0, +) - 1) < 1e-5) }
    }

    @Test func cutmixSwapsABoxAndCorrectsLambda() throws {
        let mixup = try Mixup(mixupAlpha: 0, cutmixAlpha: 1, labelSmoothing: 0, classCount: 2)
        let n = 4, side = 16
        var images = Tensor(shape: [n, side, side, 1], scalars: (0..<n).flatMap { [Float](repeating: Float($0), count: side * side) })
        var generator = SeededGenerator(seed: 4)
        let (targets, lambdas) = mixup.apply(to: &images, labels: [0, 1, 0, 1], generator: &generator)
        let lambda = lambdas[0]
        let pasted = (0..<(side * side)).filter { images.scalars[$0] == Float(n - 1) }.count
        #expect(abs(lambda - (1 - Double(pasted) / Double(side * side))) < 1e-9)
        #expect(abs(Double(targets[0, 0]) - lambda) < 1e-6 && abs(Double(targets[0, 1]) - (1 - lambda)) < 1e-6)
    }

    @Test func betaSamplesHaveTheRightMean() {
        var generator = SeededGenerator(seed: 2)
        for alpha in [0.2, 1.0, 3.0] {
            let samples = (0..<4000).map { _ in generator.nextBeta(alpha, 2 * alpha) }
            let mean = samples.reduce(0, +) / Double(samples.count)
            #expect(abs(mean - 1.0 / 3.0) < 0.03, "Beta(\(alpha), \(2 * alpha)) mean \(mean)")
            #expect(samples.allSatisfy { $0 >= 0 && $0 <= 1 })
        }
    }
}
