import BNN
import BNNDistributed
import Testing

@Suite struct GradientAllReducerTests {
    /// Parameters of odd sizes whose gradients depend on the rank and the element.
    static func parameters(rank: Int) -> [Parameter] {
        [7, 1, 12, 3, 25, 5].enumerated().map { index, count in
            let parameter = Parameter(Tensor(zeros: [count]), kind: .real)
            parameter.gradient = Tensor(shape: [count], scalars: (0..<count).map { Float(rank * 1000 + index * 100 + $0) })
            return parameter
        }
    }

    @Test(arguments: [4 * 4, 4 * 10, 4 << 20])
    func averagesEveryGradientElementAcrossRanks(bucketBytes: Int) throws {
        let results = runRanks(2) { communicator -> ([[Float]], Int) in
            let reducer = GradientAllReducer(communicator: communicator, bucketBytes: bucketBytes)
            let parameters = Self.parameters(rank: communicator.rank)
            reducer.reduce(parameters)
            return (parameters.map(\.gradient.scalars), reducer.bucketCount)
        }
        let expected = zip(Self.parameters(rank: 0), Self.parameters(rank: 1)).map { a, b in
            zip(a.gradient.scalars, b.gradient.scalars).map { ($0 + $1) / 2 }
        }
        for result in results {
            let (gradients, buckets) = try result.get()
            #expect(gradients == expected)
            // Last parameter first; a bucket closes when the next tensor would overflow it: 16 bytes → every
            // tensor alone; 40 bytes → [5], [25], [3], [12], [1, 7]; 4 MiB → one bucket.
            #expect(buckets == [16: 6, 40: 5, 4 << 20: 1][bucketBytes])
        }
    }

    @Test func oneRankLeavesGradientsUntouched() {
        let parameters = Self.parameters(rank: 3)
        let before = parameters.map(\.gradient.scalars)
        let reducer = GradientAllReducer(communicator: SingleProcessCommunicator())
        reducer.reduce(parameters)
        #expect(parameters.map(\.gradient.scalars) == before)
        #expect(reducer.reductionCount == 0)
    }
}
