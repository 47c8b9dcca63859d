import BNN
import Testing

/// The bfloat16 convolution passes (``ComputePrecision/bf16``, on this CPU's bfloat16 kernel or the
/// portable reference where it has none) against direct loops in double precision, on every case
/// and code path of ``ConvolutionTests``.
@Suite struct ConvolutionBFloat16Tests {
    /// Runs the three passes in bfloat16 on `x`, `w`, `dy` and returns the worst errors against the
    /// double-precision loops over the same values, relative to `scale · Σ|terms| + 1e-6`.
    static func worstErrors(_ g: ConvolutionGeometry, x: [Float], w: [Float], dy: [Float], dw0: [Float],
                            scale: Double) -> (forward: Double, input: Double, weight: Double) {
        let e = ConvolutionTests.naive(g, x: x, w: w, dy: dy, dw0: dw0)
        func worst(_ got: [Float], _ exact: [Double], _ magnitude: [Double]) -> Double {
            zip(got.indices, got).map { i, v in abs(Double(v) - exact[i]) / (scale * magnitude[i] + 1e-6) }.max() ?? 0
        }
        var y = [Float](repeating: .nan, count: g.outputCount)
        Convolution.forward(input: x, weight: w, output: &y, geometry: g, precision: .bf16)
        var dx = [Float](repeating: .nan, count: g.inputCount)
        Convolution.backwardInput(outputGradient: dy, weight: w, inputGradient: &dx, geometry: g, precision: .bf16)
        var dw = dw0
        Convolution.backwardWeight(input: x, outputGradient: dy, weightGradient: &dw, geometry: g, precision: .bf16)
        return (worst(y, e.output, e.outputMagnitude), worst(dx, e.inputGradient, e.inputMagnitude),
                worst(dw, e.weightGradient, e.weightMagnitude))
    }

    @Test("on bfloat16 values every pass is exact up to single-precision sums", arguments: ConvolutionTests.cases)
    func exactOnRoundedValues(_ testCase: ConvolutionTests.Case) {
        let g = testCase.geometry
        var generator = SeededGenerator(seed: UInt64(g.patchSize * 17 + g.outputChannels))
        // Values that bfloat16 holds exactly: any misplaced or dropped term shows as an error far
        // above the single-precision summation bound.
        let random = { (count: Int) in
            (0..<count).map { _ in BFloat16GEMM.rounded(generator.nextUnitFloat() * 2 - 1) }
        }
        let x = random(g.inputCount), w = random(g.weightCount), dy = random(g.outputCount), dw0 = random(g.weightCount)
        let errors = Self.worstErrors(g, x: x, w: w, dy: dy, dw0: dw0, scale: 1e-5)
        #expect(errors.forward <= 1, "forward \(testCase.testDescription)")
        #expect(errors.input <= 1, "input gradient \(testCase.testDescription)")
        #expect(errors.weight <= 1, "weight gradient \(testCase.testDescription)")
    }

    @Test("on single-precision values every pass is within the bfloat16 rounding bound",
          arguments: ConvolutionTests.cases)
    func withinRoundingBound(_ testCase: ConvolutionTests.Case) {
        let g = testCase.geometry
        var generator = SeededGenerator(seed: UInt64(g.patchSize * 13 + g.outputChannels))
        let random = { (count: Int) in (0..<count).map { _ in generator.nextUnitFloat() * 2 - 1 } }
        let x = random(g.inputCount), w = random(g.weightCount), dy = random(g.outputCount), dw0 = random(g.weightCount)
        // Each operand moves by at most 2⁻⁹ relative (half a bfloat16 step), so each product by
        // at most about 2⁻⁸: the error of a sum is at most 2⁻⁸ · Σ|terms| (2⁻⁷ leaves room for the sums).
        let errors = Self.worstErrors(g, x: x, w: w, dy: dy, dw0: dw0, scale: 0x1p-7)
        #expect(errors.forward <= 1 && errors.input <= 1 && errors.weight <= 1, "\(testCase.testDescription): \(errors)")
        // And bfloat16 really rounds: on generic values the result differs from single precision.
        var y32 = [Float](repeating: 0, count: g.outputCount), y16 = y32
        Convolution.forward(input: x, weight: w, output: &y32, geometry: g)
        Convolution.forward(input: x, weight: w, output: &y16, geometry: g, precision: .bf16)
        #expect(y32 != y16, "\(testCase.testDescription)")
    }
}
