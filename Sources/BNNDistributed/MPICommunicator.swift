#if MPI
import CMPI
import Foundation

/// The communicator of all processes started by `mpirun` (MPI_COMM_WORLD), built with the package
/// trait `MPI`.
///
/// MPI is initialised once per process (thread level "funneled": only the thread that created the
/// communicator calls MPI; the compute threads never do). MPI errors end the job with MPI's own
/// message (the default MPI_ERRORS_ARE_FATAL handler). Started without `mpirun`, the process is a job
/// of one rank.
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
    private let comm: MPI_Comm

    nonisolated(unsafe) private static var shared: MPICommunicator?

    /// Initialises MPI on the first call and returns the world communicator.
    ///
    /// - Throws: ``DistributedError/initializationFailed(reason:)`` when MPI cannot be initialised or
    ///   was already finalised.
    public static func world() throws -> MPICommunicator {
        if let shared { return shared }
        var finalized: Int32 = 0
        MPI_Finalized(&finalized)
        guard finalized == 0 else { throw DistributedError.initializationFailed(reason: "MPI was already finalised") }
        var initialized: Int32 = 0
        MPI_Initialized(&initialized)
        if initialized == 0 {
            var provided: Int32 = 0
            let status = MPI_Init_thread(nil, nil, bnn_mpi_thread_funneled(), &provided)
            guard status == MPI_SUCCESS else {
                throw DistributedError.initializationFailed(reason: "MPI_Init_thread returned \(status)")
            }
            guard provided >= bnn_mpi_thread_funneled() else {
                throw DistributedError.initializationFailed(
                    reason: "the MPI library offers thread level \(provided), below MPI_THREAD_FUNNELED")
            }
        }
        let communicator = MPICommunicator()
        shared = communicator
        return communicator
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
        MPI_Allreduce(bnn_mpi_in_place(), base, Self.count(values.count), bnn_mpi_float(), bnn_mpi_sum(), comm)
    }

    /// Sums `values` in place over all ranks (MPI_Allreduce, MPI_SUM).
    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Double>) {
        guard let base = values.baseAddress else { return }
        MPI_Allreduce(bnn_mpi_in_place(), base, Self.count(values.count), bnn_mpi_double(), bnn_mpi_sum(), comm)
    }

    /// Replaces `values` in place by their maxima over all ranks (MPI_Allreduce, MPI_MAX).
    public func allReduceMax(_ values: UnsafeMutableBufferPointer<Int64>) {
        guard let base = values.baseAddress else { return }
        MPI_Allreduce(bnn_mpi_in_place(), base, Self.count(values.count), bnn_mpi_int64(), bnn_mpi_max(), comm)
    }

    /// Broadcasts `bytes` from `root` (MPI_Bcast), in pieces of at most 1 GiB.
    public func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) {
        precondition((0..<worldSize).contains(root), "MPICommunicator: broadcast root \(root) outside 0..<\(worldSize)")
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            let piece = min(bytes.count - offset, 1 << 30)
            MPI_Bcast(base + offset, Int32(piece), bnn_mpi_byte(), Int32(root), comm)
            offset += piece
        }
    }

    /// Waits for every rank (MPI_Ibarrier), sleeping 1 ms between checks instead of spinning, so a
    /// rank that waits long (for rank 0's validation, say) leaves its core to others.
    public func barrier() {
        var request = bnn_mpi_request_null()
        MPI_Ibarrier(comm, &request)
        var done: Int32 = 0
        while true {
            MPI_Test(&request, &done, bnn_mpi_status_ignore())
            if done != 0 { return }
            usleep(1000)
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
