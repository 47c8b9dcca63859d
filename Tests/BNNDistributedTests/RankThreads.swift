import BNNDistributed
import Foundation

/// Runs `body` once per rank of a new in-process group of `size`, each on its own thread, and returns
/// the results in rank order (a thrown error becomes that rank's failure).
func runRanks<T>(_ size: Int, _ body: @escaping (InProcessCommunicator) throws -> T) -> [Result<T, any Error>] {
    let results = RankResults<T>(size: size)
    let done = DispatchSemaphore(value: 0)
    for communicator in InProcessCommunicator.group(size: size) {
        let thread = Thread {
            results.set(Result { try body(communicator) }, rank: communicator.rank)
            done.signal()
        }
        thread.stackSize = 8 << 20
        thread.start()
    }
    for _ in 0..<size { done.wait() }
    return results.all
}

/// The results of the rank threads, written under a lock.
private final class RankResults<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Result<T, any Error>?]

    init(size: Int) { results = Array(repeating: nil, count: size) }

    func set(_ result: Result<T, any Error>, rank: Int) {
        lock.lock()
        results[rank] = result
        lock.unlock()
    }

    /// Every rank's result; call after all threads have finished.
    var all: [Result<T, any Error>] {
        lock.lock()
        defer { lock.unlock() }
        return results.map { $0! }
    }
}
