import BNN
import BNNKernels
import Foundation
import Testing

/// The worker pool behind ``Parallel``: every chunk runs exactly once, whatever the thread count,
/// the number of back-to-back loops, nesting or concurrent callers.
@Suite struct ParallelPoolTests {
    /// Counts, per chunk, how often it ran: chunk `c` adds 1 to `counts[c]` (disjoint slots).
    final class ChunkCounter: @unchecked Sendable {
        let counts: UnsafeMutablePointer<Int>
        let chunks: Int

        init(chunks: Int) {
            self.chunks = chunks
            counts = .allocate(capacity: chunks)
            counts.initialize(repeating: 0, count: chunks)
        }

        deinit { counts.deallocate() }

        /// Runs one loop over all chunks through `bnn_parallel_run`.
        func run(threads: Int) {
            withExtendedLifetime(self) {
                bnn_parallel_run(Int64(chunks), Int32(threads), { context, chunk in
                    let counter = Unmanaged<ChunkCounter>.fromOpaque(context!).takeUnretainedValue()
                    counter.counts[Int(chunk)] += 1
                }, Unmanaged.passUnretained(self).toOpaque())
            }
        }

        /// Whether every chunk ran `times` times.
        func allRan(times: Int) -> Bool { (0..<chunks).allSatisfy { counts[$0] == times } }
    }

    @Test("every chunk runs once, for chunk counts below, at and above the thread count",
          arguments: [1, 2, 3, 8], [1, 2, 3, 7, 64, 1000])
    func everyChunkOnce(threads: Int, chunks: Int) {
        let counter = ChunkCounter(chunks: chunks)
        counter.run(threads: threads)
        #expect(counter.allRan(times: 1))
    }

    @Test("thousands of back-to-back loops lose no chunk and never hang")
    func backToBackLoops() {
        let counter = ChunkCounter(chunks: 5)
        for _ in 0..<5000 { counter.run(threads: 2) }
        #expect(counter.allRan(times: 5000))
    }

    @Test("a loop inside a loop runs on its calling thread and completes")
    func nestedLoops() {
        let outer = 6, inner = 100
        var sums = [Int](repeating: 0, count: outer)
        sums.withUnsafeMutableBufferPointer { sums in
            Parallel.forEachChunk(outer) { range in
                for i in range {
                    var parts = [Int](repeating: 0, count: inner)
                    parts.withUnsafeMutableBufferPointer { parts in
                        Parallel.forEachChunk(inner) { items in
                            for j in items { parts[j] = i * inner + j }
                        }
                    }
                    sums[i] = parts.reduce(0, +)
                }
            }
        }
        #expect(sums == (0..<outer).map { i in (0..<inner).reduce(0) { $0 + i * inner + $1 } })
    }

    @Test("loops started from several threads at once all complete exactly")
    func concurrentCallers() {
        let callers = 4, loops = 300, chunks = 3
        let counters = (0..<callers).map { _ in ChunkCounter(chunks: chunks) }
        DispatchQueue.concurrentPerform(iterations: callers) { caller in
            for _ in 0..<loops { counters[caller].run(threads: 2) }
        }
        #expect(counters.allSatisfy { $0.allRan(times: loops) })
    }

    @Test("Parallel.forEachChunk covers 0..<count with disjoint contiguous ranges", arguments: [1, 2, 5, 1000, 4097])
    func forEachChunkCoverage(count: Int) {
        var visits = [Int](repeating: 0, count: count)
        visits.withUnsafeMutableBufferPointer { visits in
            Parallel.forEachChunk(count, minimumChunk: 2) { range in
                for i in range { visits[i] += 1 }
            }
        }
        #expect(visits.allSatisfy { $0 == 1 })
    }
}
