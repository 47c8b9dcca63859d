import BNN
import BNNDistributed
import Testing

@Suite struct BFloat16Tests {
    @Test func roundsToNearestEvenAndKeepsSpecialValues() {
        #expect(BFloat16.bits(rounding: 1) == 0x3F80)
        #expect(BFloat16.bits(rounding: -2) == 0xC000)
        // 1 + 2⁻⁸ lies halfway between 1 and 1 + 2⁻⁷: ties go to the even 1.
        #expect(BFloat16.bits(rounding: 1 + 0x1p-8) == 0x3F80)
        // 1 + 3·2⁻⁸ lies halfway between 1 + 2⁻⁷ (odd) and 1 + 2⁻⁶: up to the even one.
        #expect(BFloat16.bits(rounding: 1 + 3 * 0x1p-8) == 0x3F82)
        #expect(BFloat16.bits(rounding: 1 + 0x1p-8 + 0x1p-20) == 0x3F81)
        #expect(BFloat16.bits(rounding: .infinity) == 0x7F80)
        #expect(BFloat16.bits(rounding: .greatestFiniteMagnitude) == 0x7F80)
        #expect(BFloat16.float(BFloat16.bits(rounding: .nan)).isNaN)
        #expect(BFloat16.float(BFloat16.bits(rounding: -.nan)).isNaN)
        #expect(BFloat16.float(0x3F81) == 1 + 0x1p-7)
    }

    @Test func roundingErrorIsAtMostHalfAUnitInTheLastPlace() {
        var generator = SeededGenerator(seed: 4)
        for _ in 0..<10_000 {
            let x = Float.random(in: -1000...1000, using: &generator)
            let rounded = BFloat16.float(BFloat16.bits(rounding: x))
            #expect(abs(rounded - x) <= abs(x) * 0x1p-8)
        }
    }

    @Test(arguments: [2, 3, 4])
    func allReduceSendsBFloat16AndSumsInFloat32(ranks: Int) throws {
        let count = 37   // not a multiple of the rank count: the last block is padded
        func values(rank: Int) -> [Float] {
            var generator = SeededGenerator(seed: 10 + UInt64(rank))
            return (0..<count).map { _ in Float.random(in: -3...3, using: &generator) }
        }
        let results = runRanks(ranks) { communicator -> [Float] in
            var mine = values(rank: communicator.rank)
            let reduction = BFloat16AllReduce(count: count, communicator: communicator)
            mine.withUnsafeMutableBufferPointer { reduction.sum($0) }
            return mine
        }
        let sums = try results.map { try $0.get() }
        for other in sums.dropFirst() { #expect(other == sums[0]) }   // the same bits everywhere
        let inputs = (0..<ranks).map(values(rank:))
        for i in 0..<count {
            // Exactly bf16(Σ_r bf16(x_r)), added in rank order in float32…
            var total: Float = 0
            for r in 0..<ranks { total += BFloat16.float(BFloat16.bits(rounding: inputs[r][i])) }
            #expect(sums[0][i] == BFloat16.float(BFloat16.bits(rounding: total)))
            // …which is within 2⁻⁷ of the float sum, relative to Σ|x|.
            let exact = inputs.reduce(0) { $0 + $1[i] }, scale = inputs.reduce(0) { $0 + abs($1[i]) }
            #expect(abs(sums[0][i] - exact) <= scale * 0x1p-7)
        }
    }

    @Test func gradientReducerInBFloat16AveragesWithinItsPrecision() throws {
        let results = runRanks(2) { communicator -> [[Float]] in
            let reducer = GradientAllReducer(communicator: communicator, bucketBytes: 40, precision: .bfloat16)
            let parameters = GradientAllReducerTests.parameters(rank: communicator.rank)
            reducer.reduce(parameters)
            #expect(reducer.reducedBytes == 53 * 2)
            return parameters.map(\.gradient.scalars)
        }
        let expected = zip(GradientAllReducerTests.parameters(rank: 0), GradientAllReducerTests.parameters(rank: 1)).map { a, b in
            zip(a.gradient.scalars, b.gradient.scalars).map { ($0 + $1) / 2 }
        }
        for result in results {
            for (gradient, reference) in zip(try result.get(), expected) {
                for (g, r) in zip(gradient, reference) { #expect(abs(g - r) <= abs(r) * 0x1p-7) }
            }
        }
    }
}
