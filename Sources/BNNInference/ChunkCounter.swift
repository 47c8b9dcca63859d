import Foundation

/// A count summed over the chunks of a parallel loop (one lock operation per chunk).
final class ChunkCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var total = 0

    /// Adds one chunk's count.
    func add(_ count: Int) {
        guard count != 0 else { return }
        lock.lock()
        total += count
        lock.unlock()
    }

    /// The sum of all counts added.
    var value: Int {
        lock.lock()
        defer { lock.unlock() }
        return total
    }
}
