import BNN
import Foundation
import Testing
@testable import BNNData

/// The augmentations against Pillow and timm on the fixtures of tools/fixtures/make_augment_fixtures.py.
@Suite("Augmentations against Pillow and timm")
struct AugmentationTests {
    struct Cases: Decodable {
        struct Resize: Decodable {
            let name: String, filter: String, x: Int, y: Int, width: Int, height: Int, outWidth: Int, outHeight: Int
        }
        struct Op: Decodable { let name: String, image: String, op: String, argument: Double, filter: String? }
        let resize: [Resize]
        let ops: [Op]
    }

    static func cases() throws -> Cases {
        try JSONDecoder().decode(Cases.self, from: Data(contentsOf: Fixtures.root.appendingPathComponent("augment/augment.json")))
    }

    static func image(_ name: String) throws -> RGBImage {
        RGBImage(width: 37, height: 29, pixels: try Fixtures.bytes("augment/\(name).rgb"))
    }

    /// Bicubic and nearest resizing of Pillow's own decode equal Pillow byte for byte (reference and AVX2 passes).
    @Test func bicubicAndNearestResizeEqualPillow() throws {
        let decoded = RGBImage(width: 160, height: 120, pixels: try Fixtures.bytes("decoded/baseline.jpg.rgb"))
        for item in try Self.cases().resize {
            let filter = try #require(ResamplingFilter(rawValue: item.filter))
            let plan = ResizePlan(sourceRegion: PixelRegion(x: item.x, y: item.y, width: item.width, height: item.height),
                                  resizedWidth: item.outWidth, resizedHeight: item.outHeight,
                                  window: PixelRegion(x: 0, y: 0, width: item.outWidth, height: item.outHeight),
                                  flipHorizontally: false, filter: filter)
            let processor = SampleProcessor(transform: FixedPlanTransform(plan: plan, gap: nil))
            var floats = [Float](repeating: 0, count: processor.sampleFloatCount)
            var generator = SeededGenerator(seed: 0)
            try floats.withUnsafeMutableBufferPointer {
                try processor.process(.decoded(decoded), name: item.name, generator: &generator, into: $0)
            }
            let ours = floats.map { UInt8(($0 * 255).rounded()) }
            #expect(ours == (try Fixtures.bytes("augment/resize-\(item.name).rgb")), "\(item.name)")
        }
    }

    /// Every op equals timm's Pillow call byte for byte.
    @Test func operationsEqualPillow() throws {
        for item in try Self.cases().ops {
            let source = try Self.image(item.image)
            let filter = ResamplingFilter(rawValue: item.filter ?? "bilinear") ?? .bilinear
            let fill: [UInt8] = [124, 116, 104]
            let a = item.argument
            let operation: PixelOperation
            switch item.op {
            case "autoContrast": operation = .autoContrast
            case "equalize": operation = .equalize
            case "invert": operation = .invert
            case "posterize": operation = .posterize(bits: Int(a))
            case "solarize": operation = .solarize(threshold: Int(a))
            case "solarizeAdd": operation = .solarizeAdd(Int(a))
            case "color": operation = .enhance(.color, factor: a)
            case "contrast": operation = .enhance(.contrast, factor: a)
            case "brightness": operation = .enhance(.brightness, factor: a)
            case "sharpness": operation = .enhance(.sharpness, factor: a)
            case "rotate": operation = .rotate(degrees: a, width: 37, height: 29, filter: filter, fill: fill)
            case "shearX": operation = .affine([1, a, 0, 0, 1, 0], filter: filter, fill: fill)
            case "shearY": operation = .affine([1, 0, 0, a, 1, 0], filter: filter, fill: fill)
            case "translateXRelative": operation = .affine([1, 0, a * 37, 0, 1, 0], filter: filter, fill: fill)
            case "translateY": operation = .affine([1, 0, 0, 0, 1, a], filter: filter, fill: fill)
            default: Issue.record("unknown op \(item.op)"); continue
            }
            let expected = try Fixtures.bytes("augment/op-\(item.name).rgb")
            let ours = operation.applied(to: source).pixels
            let (outside, maximum) = Fixtures.compare(ours, expected, tolerance: 0)
            #expect(ours == expected, "\(item.name): \(outside) of bytes differ, max \(maximum)")
        }
    }

    @Test func parsesTimmStrings() throws {
        let rand = try AutoAugment(parsing: "rand-m9-mstd0.5-inc1", imageSize: 224)
        guard case .random(let operations, let layers) = rand.mode else { Issue.record("not RandAugment"); return }
        #expect(layers == 2 && operations.count == 15 && operations.allSatisfy { $0.magnitude == 9 && $0.probability == 0.5 })
        #expect(operations.contains { $0.name == .posterizeIncreasing })
        #expect(rand.settings.magnitudeStandardDeviation == 0.5 && rand.settings.translateConstant == 100)
        #expect(rand.settings.fill == [124, 116, 104])
        let custom = try AutoAugment(parsing: "rand-m7-n3-mstd101-mmax20-inc0-p0.8", imageSize: 32)
        guard case .random(let ops3, 3) = custom.mode else { Issue.record("n3 not parsed"); return }
        #expect(ops3.allSatisfy { $0.probability == 0.8 && $0.magnitude == 7 } && ops3.contains { $0.name == .posterize })
        #expect(custom.settings.magnitudeStandardDeviation == .infinity && custom.settings.magnitudeMaximum == 20)
        for policy in ["original", "originalr", "v0", "v0r-mstd0.5"] {
            let aa = try AutoAugment(parsing: policy, imageSize: 224)
            guard case .policy(let subPolicies) = aa.mode else { Issue.record("\(policy) is not a policy"); continue }
            #expect(subPolicies.count == 25 && subPolicies.allSatisfy { $0.count == 2 }, "\(policy)")
        }
        for bad in ["rand-x9", "rand-m", "foo", "original-m9", "augmix-m3", "rand-p2"] {
            #expect(throws: BNNDataError.self) { try AutoAugment(parsing: bad, imageSize: 224) }
        }
        #expect(throws: BNNDataError.self) { try Interpolation(parsing: "lanczos") }
        #expect(try Interpolation(parsing: "Bicubic") == .fixed(.bicubic) && Interpolation(parsing: "random") == .random)
    }

    /// RandAugment is a deterministic function of the generator and changes most images.
    @Test func randAugmentIsSeededAndChangesImages() throws {
        let source = try Self.image("source")
        let aa = try AutoAugment(parsing: "rand-m9-mstd0.5-inc1", imageSize: 37)
        func run(_ seed: UInt64) -> [UInt8] {
            var buffer = PixelBuffer(source)
            defer { buffer.deallocate() }
            var generator = SeededGenerator(seed: seed)
            aa.apply(to: &buffer, generator: &generator)
            return buffer.image.pixels
        }
        #expect(run(3) == run(3))
        // Each of the 2 ops runs with p 0.5, so about a quarter of the images stay unchanged.
        let outputs = (0..<100).map { run(UInt64($0)) }
        let changed = outputs.filter { $0 != source.pixels }.count
        #expect(changed >= 55 && changed <= 95, "\(changed) of 100 changed")
        #expect(Set(outputs).count >= changed / 2)
    }

    @Test func randomInterpolationPicksBothFilters() {
        var generator = SeededGenerator(seed: 1)
        let draws = (0..<200).map { _ in Interpolation.random.draw(&generator) }
        let bicubic = draws.filter { $0 == .bicubic }.count
        #expect(bicubic > 70 && bicubic < 130 && !draws.contains(.nearest))
    }

    @Test func erasingModesFill() {
        for mode in RandomErasing.Mode.allCases {
            let erasing = RandomErasing(probability: 1, count: 3, mode: mode)
            var pixels = [Float](repeating: 7, count: 32 * 32 * 3)
            var generator = SeededGenerator(seed: 5)
            pixels.withUnsafeMutableBufferPointer { erasing.apply($0, width: 32, height: 32, generator: &generator) }
            let erased = pixels.enumerated().filter { $0.element != 7 }
            #expect(!erased.isEmpty, "\(mode)")
            switch mode {
            case .const: #expect(erased.allSatisfy { $0.element == 0 })
            case .rand: #expect(Set(erased.map(\.element)).count <= 9, "one colour per rectangle")
            case .pixel: #expect(Set(erased.map(\.element)).count > erased.count / 2)
            }
        }
    }

    /// Pair mode mixes both samples of a pair with one λ, element mode each sample with its own λ against
    /// the unmodified mirror; targets follow each sample's λ.
    @Test func mixupModes() throws {
        let n = 6
        let scalars = (0..<n).map { Float($0) }
        for mode in Mixup.Mode.allCases {
            let mixup = try Mixup(mixupAlpha: 1, cutmixAlpha: 0, labelSmoothing: 0, classCount: n, mode: mode)
            var images = Tensor(shape: [n, 1, 1, 1], scalars: scalars)
            var generator = SeededGenerator(seed: 11)
            let (targets, lambdas) = mixup.apply(to: &images, labels: Array(0..<n), generator: &generator)
            for i in 0..<n {
                let l = lambdas[i], j = n - 1 - i
                #expect(abs(Double(images.scalars[i]) - (l * Double(i) + (1 - l) * Double(j))) < 1e-5, "\(mode) \(i)")
                #expect(abs(Double(targets[i, i]) - l) < 1e-6 || i == j)
            }
            switch mode {
            case .batch: #expect(Set(lambdas).count == 1)
            case .pair: #expect((0..<n).allSatisfy { lambdas[$0] == lambdas[n - 1 - $0] } && Set(lambdas).count == n / 2)
            case .elem: #expect(Set(lambdas).count == n)
            }
        }
    }
}
