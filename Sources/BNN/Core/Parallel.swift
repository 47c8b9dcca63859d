import BNNKernels
import Foundation

/// Splits loops over the CPU cores.
///
/// The loops run on a persistent pool of worker threads (`bnn_parallel_run` in `BNNKernels`) whose
/// workers spin for a short while after each loop before they sleep, so that back-to-back loops —
/// a network's layers — start at once rather than paying a thread wake-up each (5–20 µs with
/// Dispatch on the machines here, a large share of a 0.2 ms convolution). A loop started from
/// inside another loop, or from a second thread while the pool is busy, runs on its calling thread.
///
/// The number of threads defaults to the number of active processors and can be set with
/// ``threadCount`` or the `BNN_THREADS` environment variable (benchmarks use it to compare one and
/// all threads). `BNN_SPIN_MICROSECONDS` sets how long idle workers spin (default 100, 0 to sleep at once).
public enum Parallel {
    nonisolated(unsafe) private static var configuredThreadCount: Int = {
        if let text = ProcessInfo.processInfo.environment["BNN_THREADS"], let n = Int(text), n > 0 { return n }
        return ProcessInfo.processInfo.activeProcessorCount
    }()

    /// How many threads parallel loops use (at least 1). Set it before starting work, not during.
    public static var threadCount: Int {
        get { configuredThreadCount }
        set { configuredThreadCount = max(1, newValue) }
    }

    /// Runs `body` over `0..<count` split into at most ``threadCount`` contiguous chunks of at least
    /// `minimumChunk` items; runs inline when one chunk suffices. `body` must be safe to call concurrently
    /// on disjoint ranges.
    public static func forEachChunk(_ count: Int, minimumChunk: Int = 1, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let chunks = Swift.min(threadCount, Swift.max(1, count / Swift.max(1, minimumChunk)))
        if chunks <= 1 { body(0..<count); return }
        withoutActuallyEscaping(body) { body in
            var loop = ChunkedLoop(count: count, chunks: chunks, body: body)
            withUnsafeMutablePointer(to: &loop) { pointer in
                bnn_parallel_run(Int64(chunks), Int32(clamping: chunks), { context, chunk in
                    let loop = context!.assumingMemoryBound(to: ChunkedLoop.self)
                    let count = loop.pointee.count, chunks = loop.pointee.chunks, index = Int(chunk)
                    let start = count * index / chunks, end = count * (index + 1) / chunks
                    if start < end { loop.pointee.body(start..<end) }
                }, pointer)
            }
        }
    }

    /// A loop handed to the worker pool: `count` items in `chunks` contiguous ranges.
    private struct ChunkedLoop {
        var count: Int
        var chunks: Int
        var body: (Range<Int>) -> Void
    }

    /// Elements below which an element-wise loop stays on one thread (about 128 KiB of floats, where
    /// the cost of waking a second thread is repaid).
    public static let elementwiseGrain = 1 << 15

    /// Runs an element-wise loop over `0..<count` in contiguous ranges on the worker threads.
    @inlinable
    public static func forEachElementRange(_ count: Int, _ body: (Range<Int>) -> Void) {
        forEachChunk(count, minimumChunk: elementwiseGrain, body)
    }

    /// Runs a loop over the `rows` of a row-major array of `rowLength` elements in contiguous row ranges.
    @inlinable
    public static func forEachRowRange(_ rows: Int, rowLength: Int, _ body: (Range<Int>) -> Void) {
        forEachChunk(rows, minimumChunk: Swift.max(1, elementwiseGrain / Swift.max(1, rowLength)), body)
    }
}
