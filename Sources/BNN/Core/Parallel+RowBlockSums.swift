extension Parallel {
    /// Per-row sums accumulated in fixed blocks of rows on the worker threads, then added block by block
    /// in order, so the result is the same for every thread count. `accumulate(rows, sums)` adds the
    /// contributions of `rows` (one block), row by row, into `sumsPerRow` running sums. Blocks hold
    /// `rowsPerBlock` rows (by default about ``elementwiseGrain`` sums' worth).
    static func rowBlockSums(rows: Int, sumsPerRow: Int, rowsPerBlock: Int? = nil,
                             _ accumulate: (Range<Int>, UnsafeMutablePointer<Double>) -> Void) -> [Double] {
        let blockRows = Swift.max(1, rowsPerBlock ?? elementwiseGrain / Swift.max(1, sumsPerRow))
        let blocks = (rows + blockRows - 1) / blockRows
        guard blocks > 0 else { return [Double](repeating: 0, count: sumsPerRow) }
        var partial = [Double](repeating: 0, count: blocks * sumsPerRow)
        partial.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            forEachChunk(blocks) { range in
                for block in range {
                    let sums = base + block * sumsPerRow
                    accumulate(block * blockRows..<Swift.min(rows, (block + 1) * blockRows), sums)
                }
            }
        }
        var total = [Double](repeating: 0, count: sumsPerRow)
        for block in 0..<blocks {
            for j in 0..<sumsPerRow { total[j] += partial[block * sumsPerRow + j] }
        }
        return total
    }

    /// The rows per block of per-channel sums over rows of `channels` values (``Tensor/sumPerChannel()``
    /// and the layers whose parameter gradients must equal it).
    static func channelSumRowsPerBlock(channels: Int) -> Int { Swift.max(1, elementwiseGrain / Swift.max(1, channels)) }
}
