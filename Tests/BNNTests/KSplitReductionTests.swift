@testable import BNN
import Foundation
import Testing

/// A product split along K (small weight gradients) adds its pieces in piece order, whichever
/// thread ran which piece, so training is the same from run to run for a given thread count.
@Suite struct KSplitReductionTests {
    @Test func piecesAreAddedInPieceOrderWhicheverThreadRanThem() {
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        Parallel.threadCount = 2
        // 16 K blocks over 2 threads: 8 pieces of 2 blocks; a 64×64 output of enough work to split.
        let (m, n, k) = (64, 64, 16 * GEMM.kSplitGrain)
        // Piece sums whose total depends on the order they are added in (1e8 absorbs the ones).
        let pieceSums: [Float] = [1e8, 1, 1, -1e8, 1, 1, 1, 1]
        let pieceLength = k / pieceSums.count
        for _ in 0..<5 {
            var c = [Float](repeating: 0.25, count: m * n)
            let split = c.withUnsafeMutableBufferPointer { out in
                GEMM.forEachKPiece(m: m, n: n, k: k, c: out.baseAddress!, ldc: n, accumulate: true) { range, output, ld, add in
                    #expect(range.count == pieceLength)
                    let value = pieceSums[range.lowerBound / pieceLength]
                    Thread.sleep(forTimeInterval: 0.001)   // long enough that both threads claim pieces
                    for i in 0..<m {
                        for j in 0..<n { output[i * ld + j] = (add ? output[i * ld + j] : 0) + value }
                    }
                }
            }
            #expect(split)
            let expected = pieceSums.reduce(Float(0.25)) { $0 + $1 }
            #expect(expected == 4)
            #expect(c.allSatisfy { $0 == expected })
        }
    }
}
