import Dispatch
import Foundation

/// Ends a process whose collective operation has waited too long: what MPI cannot detect by itself
/// (a peer whose link went down, a peer that stopped without dying) then ends within a known time
/// instead of hanging.
///
/// The communicator calls ``begin(_:limit:)`` before and ``end()`` after each blocking operation; a
/// background thread checks twice a second and, once an operation has lasted longer than its limit,
/// calls `onTimeout` with a message naming the operation and the wait (`MPICommunicator` prints it,
/// naming the rank and host, and exits, so `mpirun` ends the job). At most one operation is watched at
/// a time: operations of one communicator never overlap.
///
/// ```swift
/// let watchdog = CollectiveWatchdog { message in print(message); exit(1) }
/// watchdog.begin("all-reduce", limit: 60)
/// MPI_Allreduce(…)
/// watchdog.end()
/// ```
public final class CollectiveWatchdog: @unchecked Sendable {
    private let lock = NSLock()
    private var operation = ""
    private var startNanoseconds: UInt64 = 0
    private var limitNanoseconds: UInt64 = .max
    private var fired = false
    private let onTimeout: @Sendable (String) -> Void
    private let timer: DispatchSourceTimer

    /// Starts watching; `onTimeout` is called once, on a background queue, with a message such as
    /// `"all-reduce has not completed after 60 s"`.
    public init(onTimeout: @escaping @Sendable (String) -> Void) {
        self.onTimeout = onTimeout
        timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "bnn.collective-watchdog"))
        timer.schedule(deadline: .now() + .milliseconds(500), repeating: .milliseconds(500), leeway: .milliseconds(100))
        timer.setEventHandler { [weak self] in self?.check() }
        timer.resume()
    }

    deinit { timer.cancel() }

    /// Marks the start of `operation`, allowed to last `limit` seconds (`nil`: unbounded).
    public func begin(_ operation: String, limit: Double?) {
        lock.lock()
        defer { lock.unlock() }
        self.operation = operation
        startNanoseconds = DispatchTime.now().uptimeNanoseconds
        limitNanoseconds = limit.map { UInt64(max(0, $0) * 1e9) } ?? .max
    }

    /// Marks the end of the operation begun last.
    public func end() {
        lock.lock()
        defer { lock.unlock() }
        limitNanoseconds = .max
    }

    private func check() {
        lock.lock()
        let now = DispatchTime.now().uptimeNanoseconds
        let expired = !fired && limitNanoseconds != .max && now - startNanoseconds > limitNanoseconds
        if expired { fired = true }
        let message = String(format: "%@ has not completed after %.0f s", operation, Double(now - startNanoseconds) / 1e9)
        lock.unlock()
        if expired { onTimeout(message) }
    }
}
