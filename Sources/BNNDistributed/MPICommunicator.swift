#if MPI
import CMPI
import Foundation

/// The communicator of all processes started by `mpirun` (MPI_COMM_WORLD), built with the package
/// trait `MPI`.
///
/// MPI is initialised once per process (thread level "serialized": one thread at a time calls MPI,
/// the main thread or ``CommunicationThread``; the compute threads never do). MPI errors end the job
/// with MPI's own message (the default MPI_ERRORS_ARE_FATAL handler). Started without `mpirun`, the
/// process is a job of one rank.
///
/// What MPI cannot detect (a peer whose link went down, a peer that hangs) is bounded by a
/// ``CollectiveWatchdog``: a collective that has not completed after ``collectiveTimeout`` seconds
/// (`BNN_COLLECTIVE_TIMEOUT`, default 120), or a ``barrier()`` after ``barrierTimeout`` seconds
/// (`BNN_BARRIER_TIMEOUT`, default 3600: ranks wait there while rank 0 validates), prints
/// `error: rank R of N on host H: all-reduce has not completed after 120 s; no heartbeat from rank 1
/// on bnn-host1 for 118 s: …` and ends this process with status 75, so that `mpirun` ends the job.
/// The ranks name the silent peer through a ``PeerHeartbeat`` started at initialisation.
///
/// ```swift
/// let world = try MPICommunicator.world()
/// defer { world.finalize() }
/// print("rank \(world.rank) of \(world.worldSize)")
/// ```
public final class MPICommunicator: Communicator {
    /// This process's rank in MPI_COMM_WORLD.
    public let rank: Int
    /// The size of MPI_COMM_WORLD.
    public let worldSize: Int
    /// The rank among the processes sharing this machine's memory.
    public let localRank: Int
    /// The number of processes sharing this machine's memory.
    public let localSize: Int
    /// Seconds a collective may wait for the other ranks before this process ends (`nil`: forever).
    public var collectiveTimeout: Double?
    /// Seconds a ``barrier()`` may wait before this process ends (`nil`: forever).
    public var barrierTimeout: Double?
    private let comm: MPI_Comm
    private var watchdog: CollectiveWatchdog?

    nonisolated(unsafe) private static var shared: MPICommunicator?

    /// Initialises MPI on the first call and returns the world communicator.
    ///
    /// - Throws: ``DistributedError/initializationFailed(reason:)`` when MPI cannot be initialised or
    ///   was already finalised, or when `BNN_COLLECTIVE_TIMEOUT` or `BNN_BARRIER_TIMEOUT` is not a
    ///   positive number of seconds (or `0` for no bound).
    public static func world() throws -> MPICommunicator {
        if let shared { return shared }
        let collectiveTimeout = try timeout(named: "BNN_COLLECTIVE_TIMEOUT", default: 120)
        let barrierTimeout = try timeout(named: "BNN_BARRIER_TIMEOUT", default: 3600)
        var finalized: Int32 = 0
        MPI_Finalized(&finalized)
        guard finalized == 0 else { throw DistributedError.initializationFailed(reason: "MPI was already finalised") }
        var initialized: Int32 = 0
        MPI_Initialized(&initialized)
        if initialized == 0 {
            var provided: Int32 = 0
            let status = MPI_Init_thread(nil, nil, bnn_mpi_thread_serialized(), &provided)
            guard status == MPI_SUCCESS else {
                throw DistributedError.initializationFailed(reason: "MPI_Init_thread returned \(status)")
            }
            guard provided >= bnn_mpi_thread_serialized() else {
                throw DistributedError.initializationFailed(
                    reason: "the MPI library offers thread level \(provided), below MPI_THREAD_SERIALIZED")
            }
        }
        let communicator = MPICommunicator()
        communicator.collectiveTimeout = collectiveTimeout
        communicator.barrierTimeout = barrierTimeout
        let rank = communicator.rank, size = communicator.worldSize
        if size > 1 {
            let heartbeat = communicator.startHeartbeat()
            communicator.watchdog = CollectiveWatchdog { message in
                let peers = heartbeat.map { "; " + $0.silenceReport(olderThan: 3 * $0.interval) } ?? ""
                let text = "error: rank \(rank) of \(size) on host \(DistributedRuntime.hostName): \(message)\(peers); "
                    + "ending the job (bounded by BNN_COLLECTIVE_TIMEOUT / BNN_BARRIER_TIMEOUT)\n"
                FileHandle.standardError.write(Data(text.utf8))
                _exit(75)
            }
        }
        shared = communicator
        return communicator
    }

    /// Exchanges every rank's heartbeat record (one all-gather) and starts this rank's
    /// ``PeerHeartbeat``; `nil` when this rank cannot open its socket (it still takes part in the
    /// all-gather, with no addresses).
    private func startHeartbeat() -> PeerHeartbeat? {
        let heartbeat = try? PeerHeartbeat(rank: rank)
        let host = DistributedRuntime.hostName
        let record = heartbeat?.record(host: host)
            ?? PeerHeartbeat.encode(PeerHeartbeat.Peer(rank: rank, host: host, endpoints: []))
        var records = [UInt8](repeating: 0, count: PeerHeartbeat.recordSize * worldSize)
        record.withUnsafeBytes { send in records.withUnsafeMutableBytes { allGather(send, $0) } }
        heartbeat?.start(peers: PeerHeartbeat.decode(records: records), host: host)
        return heartbeat
    }

    /// The seconds in the environment variable `name`, `defaultValue` when it is unset, `nil` for 0.
    private static func timeout(named name: String, default defaultValue: Double) throws -> Double? {
        guard let text = ProcessInfo.processInfo.environment[name] else { return defaultValue }
        guard let seconds = Double(text), seconds >= 0, seconds.isFinite else {
            throw DistributedError.initializationFailed(reason: "\(name)=\(text) is not a number of seconds (0 for no bound)")
        }
        return seconds == 0 ? nil : seconds
    }

    /// Runs one MPI call under the watchdog.
    private func watched(_ operation: String, limit: Double?, _ body: () -> Void) {
        watchdog?.begin(operation, limit: limit)
        body()
        watchdog?.end()
    }

    private init() {
        comm = bnn_mpi_comm_world()
        var value: Int32 = 0
        MPI_Comm_rank(comm, &value)
        rank = Int(value)
        MPI_Comm_size(comm, &value)
        worldSize = Int(value)
        var local = bnn_mpi_comm_null()
        MPI_Comm_split_type(comm, bnn_mpi_comm_type_shared(), Int32(rank), bnn_mpi_info_null(), &local)
        MPI_Comm_rank(local, &value)
        localRank = Int(value)
        MPI_Comm_size(local, &value)
        localSize = Int(value)
        MPI_Comm_free(&local)
    }

    /// Ends MPI in this process (every rank must call it before exiting normally). Idempotent.
    public func finalize() {
        var finalized: Int32 = 0
        MPI_Finalized(&finalized)
        if finalized == 0 { MPI_Finalize() }
    }

    /// Sums `values` in place over all ranks (MPI_Allreduce, MPI_SUM).
    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) {
        guard let base = values.baseAddress else { return }
        watched("all-reduce of \(values.count) floats", limit: collectiveTimeout) {
            MPI_Allreduce(bnn_mpi_in_place(), base, Self.count(values.count), bnn_mpi_float(), bnn_mpi_sum(), comm)
        }
    }

    /// Sums `values` in place over all ranks (MPI_Allreduce, MPI_SUM).
    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Double>) {
        guard let base = values.baseAddress else { return }
        watched("all-reduce of \(values.count) doubles", limit: collectiveTimeout) {
            MPI_Allreduce(bnn_mpi_in_place(), base, Self.count(values.count), bnn_mpi_double(), bnn_mpi_sum(), comm)
        }
    }

    /// Replaces `values` in place by their maxima over all ranks (MPI_Allreduce, MPI_MAX).
    public func allReduceMax(_ values: UnsafeMutableBufferPointer<Int64>) {
        guard let base = values.baseAddress else { return }
        watched("all-reduce of \(values.count) integers", limit: collectiveTimeout) {
            MPI_Allreduce(bnn_mpi_in_place(), base, Self.count(values.count), bnn_mpi_int64(), bnn_mpi_max(), comm)
        }
    }

    /// Broadcasts `bytes` from `root` (MPI_Bcast), in pieces of at most 1 GiB.
    public func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) {
        precondition((0..<worldSize).contains(root), "MPICommunicator: broadcast root \(root) outside 0..<\(worldSize)")
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            let piece = min(bytes.count - offset, 1 << 30)
            watched("broadcast from rank \(root)", limit: collectiveTimeout) {
                MPI_Bcast(base + offset, Int32(piece), bnn_mpi_byte(), Int32(root), comm)
            }
            offset += piece
        }
    }

    /// MPI_Alltoall of bytes: block `j` of `send` to rank `j`.
    public func allToAll(_ send: UnsafeRawBufferPointer, _ receive: UnsafeMutableRawBufferPointer) {
        precondition(send.count == receive.count && send.count % worldSize == 0,
                     "MPICommunicator: allToAll needs equal buffers of worldSize equal blocks")
        guard let source = send.baseAddress, let target = receive.baseAddress else { return }
        watched("all-to-all of \(send.count) bytes", limit: collectiveTimeout) {
            MPI_Alltoall(source, Self.count(send.count / worldSize), bnn_mpi_byte(),
                         target, Self.count(send.count / worldSize), bnn_mpi_byte(), comm)
        }
    }

    /// MPI_Allgather of bytes.
    public func allGather(_ send: UnsafeRawBufferPointer, _ receive: UnsafeMutableRawBufferPointer) {
        precondition(receive.count == send.count * worldSize, "MPICommunicator: allGather needs receive = worldSize × send")
        guard let source = send.baseAddress, let target = receive.baseAddress else { return }
        watched("all-gather of \(send.count) bytes", limit: collectiveTimeout) {
            MPI_Allgather(source, Self.count(send.count), bnn_mpi_byte(), target, Self.count(send.count), bnn_mpi_byte(), comm)
        }
    }

    /// Waits for every rank (MPI_Ibarrier), sleeping 1 ms between checks instead of spinning, so a
    /// rank that waits long (for rank 0's validation, say) leaves its core to others.
    public func barrier() {
        watched("barrier", limit: barrierTimeout) {
            var request = bnn_mpi_request_null()
            MPI_Ibarrier(comm, &request)
            var done: Int32 = 0
            while true {
                MPI_Test(&request, &done, bnn_mpi_status_ignore())
                if done != 0 { return }
                usleep(1000)
            }
        }
    }

    /// MPI_Abort on the world communicator: `mpirun` ends every rank and reports this one.
    public func abort(exitCode: Int32) -> Never {
        MPI_Abort(comm, exitCode)
        exit(exitCode)
    }

    private static func count(_ n: Int) -> Int32 {
        precondition(n <= Int(Int32.max), "MPICommunicator: \(n) elements exceed one MPI call")
        return Int32(n)
    }
}

#endif
