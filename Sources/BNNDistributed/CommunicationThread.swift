import Foundation

/// A thread of its own that runs communication work in the order it was submitted, so that gradient
/// all-reduces proceed while the training thread computes the rest of the backward pass.
///
/// Work runs strictly one item at a time in submission order; since every rank submits the same
/// collectives in the same order, the ranks' collectives match. While the thread is in use, every
/// other collective of the process must go through it too (``QueuedCommunicator``): one thread at a
/// time may call MPI.
public final class CommunicationThread: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [() -> Void] = []
    private var head = 0
    private var busy = false
    private var stopping = false

    /// Starts the thread.
    public init() {
        let thread = Thread { [self] in loop() }
        thread.name = "bnn.communication"
        thread.stackSize = 4 << 20
        thread.start()
    }

    /// Ends the thread after the submitted work.
    public func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    /// Queues `work`; returns at once.
    public func submit(_ work: @escaping () -> Void) {
        condition.lock()
        queue.append(work)
        condition.broadcast()
        condition.unlock()
    }

    /// Blocks until all submitted work has run.
    public func waitUntilIdle() {
        condition.lock()
        while head < queue.count || busy { condition.wait() }
        queue.removeAll(keepingCapacity: true)
        head = 0
        condition.unlock()
    }

    /// Runs `work` on the thread, after the work already submitted, and returns when it is done.
    public func run(_ work: () -> Void) {
        withoutActuallyEscaping(work) { work in
            submit(work)
            waitUntilIdle()
        }
    }

    private func loop() {
        condition.lock()
        while true {
            while head == queue.count && !stopping { condition.wait() }
            if head == queue.count && stopping { break }
            let work = queue[head]
            head += 1
            busy = true
            condition.unlock()
            work()
            condition.lock()
            busy = false
            condition.broadcast()
        }
        condition.unlock()
    }
}

/// A ``Communicator`` whose every collective runs on a ``CommunicationThread`` (and returns when it
/// is done), in order with the work submitted there: what the training thread uses while gradient
/// buckets travel on that thread.
public final class QueuedCommunicator: Communicator {
    /// The communicator that does the work.
    public let base: any Communicator
    /// The thread it runs on.
    public let thread: CommunicationThread

    /// Sends every collective of `base` through `thread`.
    public init(_ base: any Communicator, thread: CommunicationThread) {
        self.base = base
        self.thread = thread
    }

    /// The base's rank.
    public var rank: Int { base.rank }
    /// The base's world size.
    public var worldSize: Int { base.worldSize }
    /// The base's local rank.
    public var localRank: Int { base.localRank }
    /// The base's local size.
    public var localSize: Int { base.localSize }

    /// The base's sum, on the thread.
    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) { thread.run { base.allReduceSum(values) } }
    /// The base's sum, on the thread.
    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Double>) { thread.run { base.allReduceSum(values) } }
    /// The base's maximum, on the thread.
    public func allReduceMax(_ values: UnsafeMutableBufferPointer<Int64>) { thread.run { base.allReduceMax(values) } }
    /// The base's broadcast, on the thread.
    public func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) { thread.run { base.broadcast(bytes, root: root) } }
    /// The base's all-to-all, on the thread.
    public func allToAll(_ send: UnsafeRawBufferPointer, _ receive: UnsafeMutableRawBufferPointer) {
        thread.run { base.allToAll(send, receive) }
    }
    /// The base's all-gather, on the thread.
    public func allGather(_ send: UnsafeRawBufferPointer, _ receive: UnsafeMutableRawBufferPointer) {
        thread.run { base.allGather(send, receive) }
    }
    /// The base's barrier, on the thread.
    public func barrier() { thread.run { base.barrier() } }
    /// The base's abort, at once (from the calling thread).
    public func abort(exitCode: Int32) -> Never { base.abort(exitCode: exitCode) }
}
