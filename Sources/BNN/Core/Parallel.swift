import Dispatch
import Foundation

/// Splits loops over the CPU cores with Dispatch.
///
/// The number of worker threads defaults to the number of active processors and can be set with
/// ``threadCount`` or the `BNN_THREADS` environment variable (benchmarks use it to compare one and
/// all threads).
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
    @inlinable
    public static func forEachChunk(_ count: Int, minimumChunk: Int = 1, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let chunks = Swift.min(threadCount, Swift.max(1, count / Swift.max(1, minimumChunk)))
        if chunks <= 1 { body(0..<count); return }
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let start = count * chunk / chunks
            let end = count * (chunk + 1) / chunks
            if start < end { body(start..<end) }
        }
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
