import Foundation

/// A count summed over the chunks of a parallel loop, such as the number of exact zeros met while
/// packing signs: each chunk adds its own count once (one lock operation per chunk, none per element).
public final class ParallelCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var total = 0

    /// Creates a counter at zero.
    public init() {}

    /// Adds one chunk's count; safe to call from any thread.
    public func add(_ count: Int) {
        guard count != 0 else { return }
        lock.lock()
        total += count
        lock.unlock()
    }

    /// The sum of all counts added so far.
    public var value: Int {
        lock.lock()
        defer { lock.unlock() }
        return total
    }
}
