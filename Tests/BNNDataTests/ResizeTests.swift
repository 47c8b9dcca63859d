import BNN
import Foundation
import Testing
@testable import BNNData

@Suite("Resizing against Pillow")
struct ResizeTests {
    /// Tolerance: |ours − Pillow| ≤ 1 on the uint8 scale for every byte, and exact for ≥ 99% of them.
    @Test func cropThenResizeAndEvaluationMatchPillow() throws {
        let jpeg = try Fixtures.bytes("images/baseline.jpg")
        let decoded = try ImageDecoder.decode(jpeg, path: "baseline.jpg")
        for item in try Fixtures.manifest().resize {
            let plan: ResizePlan
            if item.kind == "crop" {
                plan = ResizePlan(sourceRegion: PixelRegion(x: item.x!, y: item.y!, width: item.width!, height: item.height!),
                                  resizedWidth: item.outWidth, resizedHeight: item.outHeight,
                                  window: PixelRegion(x: 0, y: 0, width: item.outWidth, height: item.outHeight),
                                  flipHorizontally: false)
            } else {
                var generator = SeededGenerator(seed: 0)
                plan = EvaluationTransform(imageSize: item.imageSize!, cropFraction: item.cropFraction!)
                    .plan(width: decoded.width, height: decoded.height, generator: &generator)
            }
            let expected = try Fixtures.bytes("resize/\(item.name).rgb")
            for payload in [ImagePayload.decoded(decoded), .encoded(jpeg)] {
                let ours = try run(payload, plan: plan)
                let (outside, maximum) = Fixtures.compare(ours, expected, tolerance: 0)
                #expect(maximum <= 1 && outside <= 0.01, "\(item.name): max \(maximum), \(outside) of bytes differ")
            }
        }
    }

    /// DCT-reduced decoding stays close to a full decode: a 4× downscale of the (noisy) 160×120 fixture
    /// decoded at 1/2 differs from the full-size path by more than 2 levels in at most 5% of the bytes
    /// (measured 3.9%) and by at most 12 levels (measured 8).
    @Test func reducedDecodeStaysClose() throws {
        let jpeg = try Fixtures.bytes("images/baseline.jpg")
        let source = try ImageDecoder.decode(jpeg, path: "baseline.jpg")
        let plan = ResizePlan(sourceRegion: PixelRegion(x: 0, y: 0, width: 160, height: 120), resizedWidth: 40,
                              resizedHeight: 30, window: PixelRegion(x: 0, y: 0, width: 40, height: 30),
                              flipHorizontally: false)
        let reduced = try run(.encoded(jpeg), plan: plan, gap: 2)
        let full = try run(.decoded(source), plan: plan)
        let (outside, maximum) = Fixtures.compare(reduced, full, tolerance: 2)
        #expect(SampleProcessor(transform: FixedPlanTransform(plan: plan, gap: 2)).reduction(for: plan) == 4)
        #expect(outside <= 0.05 && maximum <= 12, "reduced decode: \(outside) of bytes off by > 2, max \(maximum)")
    }

    /// Processes `payload` with a fixed plan through the loader's path and returns 8-bit output (the
    /// unit-range normalisation inverted); `gap` enables DCT-reduced decoding.
    private func run(_ payload: ImagePayload, plan: ResizePlan, gap: Double? = nil) throws -> [UInt8] {
        let processor = SampleProcessor(transform: FixedPlanTransform(plan: plan, gap: gap))
        var floats = [Float](repeating: 0, count: processor.sampleFloatCount)
        var generator = SeededGenerator(seed: 0)
        try floats.withUnsafeMutableBufferPointer {
            try processor.process(payload, name: "fixture", generator: &generator, into: $0)
        }
        return floats.map { UInt8(($0 * 255).rounded()) }
    }
}

/// A transform that always returns one plan, normalising to [0, 1].
struct FixedPlanTransform: ImageTransform {
    let plan: ResizePlan
    var gap: Double?
    init(plan: ResizePlan, gap: Double? = nil) {
        self.plan = plan
        self.gap = gap
    }
    var outputWidth: Int { plan.window.width }
    var outputHeight: Int { plan.window.height }
    var normalization: Normalization { .unitRange }
    var dctReductionGap: Double? { gap }
    func plan(width: Int, height: Int, generator: inout SeededGenerator) -> ResizePlan { plan }
    func augment(_ pixels: UnsafeMutableBufferPointer<Float>, width: Int, height: Int,
                 generator: inout SeededGenerator) {}
}
