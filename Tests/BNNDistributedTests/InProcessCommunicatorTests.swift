import BNNDistributed
import Testing

@Suite struct InProcessCommunicatorTests {
    @Test func allReduceSumsMaximaAndBroadcastsAgreeOnEveryRank() throws {
        let results = runRanks(3) { communicator -> ([Double], [Int64], String, Bool, Bool) in
            let r = Double(communicator.rank)
            var sums = [r, 10 * r + 1]
            communicator.allReduceSum(&sums)
            var maxima: [Int64] = [Int64(communicator.rank), -Int64(communicator.rank)]
            communicator.allReduceMax(&maxima)
            let text = communicator.broadcast(communicator.rank == 2 ? "from rank 2 ✓" : "ignored", root: 2)
            return (sums, maxima, text, communicator.anyRank(communicator.rank == 1), communicator.anyRank(false))
        }
        for result in results {
            let (sums, maxima, text, some, none) = try result.get()
            #expect(sums == [3, 33])
            #expect(maxima == [2, 0])
            #expect(text == "from rank 2 ✓")
            #expect(some && !none)
        }
    }

    @Test func singleProcessCommunicatorIsTheIdentity() {
        let communicator = SingleProcessCommunicator()
        var values = [1.5, -2]
        communicator.allReduceSum(&values)
        #expect(values == [1.5, -2])
        #expect(communicator.broadcast("text", root: 0) == "text")
        #expect(communicator.isPrimary && communicator.worldSize == 1)
    }
}
