import Foundation

/// Ranks that are threads of one process: a ``Communicator`` for tests and for trying data-parallel
/// code without MPI.
///
/// ``group(size:)`` makes the communicators of one job; run each on its own thread (not on a shared
/// queue whose width could be smaller than the group, which would deadlock). Collectives complete
/// when every member has called them; they copy through shared memory.
///
/// ```swift
/// let ranks = InProcessCommunicator.group(size: 2)
/// let threads = ranks.map { communicator in Thread { train(on: communicator) } }
/// threads.forEach { $0.start() }
/// ```
public final class InProcessCommunicator: Communicator {
    /// This member's rank.
    public let rank: Int
    /// The number of members.
    public let worldSize: Int
    /// Equal to ``rank``: all members share one machine.
    public var localRank: Int { rank }
    /// Equal to ``worldSize``.
    public var localSize: Int { worldSize }
    private let shared: SharedState

    /// The communicators of a new job of `size` members, ranks `0 ..< size`.
    public static func group(size: Int) -> [InProcessCommunicator] {
        precondition(size >= 1, "InProcessCommunicator: a group needs at least one member")
        let shared = SharedState(size: size)
        return (0..<size).map { InProcessCommunicator(rank: $0, worldSize: size, shared: shared) }
    }

    private init(rank: Int, worldSize: Int, shared: SharedState) {
        self.rank = rank
        self.worldSize = worldSize
        self.shared = shared
    }

    /// Sums `values` in place over all members.
    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) { reduce(values, +) }
    /// Sums `values` in place over all members.
    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Double>) { reduce(values, +) }
    /// Replaces `values` in place by their maxima over all members.
    public func allReduceMax(_ values: UnsafeMutableBufferPointer<Int64>) { reduce(values) { max($0, $1) } }

    /// Copies `root`'s bytes to every member.
    public func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) {
        precondition((0..<worldSize).contains(root), "InProcessCommunicator: broadcast root \(root) outside 0..<\(worldSize)")
        shared.addresses[rank] = UnsafeMutableRawPointer(bytes.baseAddress)
        shared.barrier()
        if rank != root, let source = shared.addresses[root], let target = bytes.baseAddress {
            target.copyMemory(from: source, byteCount: bytes.count)
        }
        shared.barrier()
    }

    /// Exchanges blocks through shared memory: block `rank` of member `i`'s `send` lands in block `i`.
    public func allToAll(_ send: UnsafeRawBufferPointer, _ receive: UnsafeMutableRawBufferPointer) {
        precondition(send.count == receive.count && send.count % worldSize == 0,
                     "InProcessCommunicator: allToAll needs equal buffers of worldSize equal blocks")
        exchange(send, blockBytes: send.count / worldSize, sourceBlock: rank, into: receive)
    }

    /// Gathers every member's `send` into `receive` through shared memory.
    public func allGather(_ send: UnsafeRawBufferPointer, _ receive: UnsafeMutableRawBufferPointer) {
        precondition(receive.count == send.count * worldSize, "InProcessCommunicator: allGather needs receive = worldSize × send")
        exchange(send, blockBytes: send.count, sourceBlock: 0, into: receive)
    }

    /// Waits for every member.
    public func barrier() { shared.barrier() }

    /// Publishes `send`, then copies `blockBytes` from block `sourceBlock` of each member `i`'s buffer
    /// into block `i` of `receive`, and waits until every member has copied.
    private func exchange(_ send: UnsafeRawBufferPointer, blockBytes: Int, sourceBlock: Int,
                          into receive: UnsafeMutableRawBufferPointer) {
        shared.addresses[rank] = UnsafeMutableRawPointer(mutating: send.baseAddress)
        shared.barrier()
        if let target = receive.baseAddress {
            for other in 0..<worldSize {
                guard let source = shared.addresses[other] else { continue }
                (target + other * blockBytes).copyMemory(from: source + sourceBlock * blockBytes, byteCount: blockBytes)
            }
        }
        shared.barrier()
    }

    /// Exits the process (the other members are threads of it).
    public func abort(exitCode: Int32) -> Never { exit(exitCode) }

    /// Publishes this member's buffer, combines all members' into a private copy, waits until every
    /// member has read, then writes the result back.
    private func reduce<T>(_ values: UnsafeMutableBufferPointer<T>, _ combine: (T, T) -> T) {
        shared.addresses[rank] = UnsafeMutableRawPointer(values.baseAddress)
        shared.barrier()
        var result = Array(values)
        for other in 0..<worldSize where other != rank {
            guard let address = shared.addresses[other] else { continue }
            let buffer = address.assumingMemoryBound(to: T.self)
            for i in result.indices { result[i] = combine(result[i], buffer[i]) }
        }
        shared.barrier()
        _ = values.update(fromContentsOf: result)
    }

    /// The state the members of one group share.
    private final class SharedState: @unchecked Sendable {
        let size: Int
        /// Each member's buffer of the collective in progress; slot `r` is written only by member `r`,
        /// before a barrier, and read by the others after it.
        let addresses: UnsafeMutablePointer<UnsafeMutableRawPointer?>
        private let condition = NSCondition()
        private var arrived = 0
        private var generation = 0

        init(size: Int) {
            self.size = size
            addresses = .allocate(capacity: size)
            addresses.initialize(repeating: nil, count: size)
        }

        deinit { addresses.deallocate() }

        /// Blocks until all members have arrived.
        func barrier() {
            condition.lock()
            defer { condition.unlock() }
            let current = generation
            arrived += 1
            if arrived == size {
                arrived = 0
                generation += 1
                condition.broadcast()
            } else {
                while generation == current { condition.wait() }
            }
        }
    }
}
