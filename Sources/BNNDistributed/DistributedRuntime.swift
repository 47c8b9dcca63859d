import Foundation
#if MPI
import CMPI
#endif

/// The process-wide entry to the job this process belongs to, whichever way the package was built.
public enum DistributedRuntime {
    /// Whether this build can communicate between processes (built with the package trait `MPI`).
    public static var isAvailable: Bool {
        #if MPI
        return true
        #else
        return false
        #endif
    }

    /// The communicator of all ranks of the job: MPI's world when built with the trait `MPI` (a job of
    /// one rank when the process was not started by `mpirun`).
    ///
    /// - Throws: ``DistributedError/notBuiltWithMPI`` without the trait;
    ///   ``DistributedError/initializationFailed(reason:)`` when MPI cannot start.
    public static func world() throws -> any Communicator {
        #if MPI
        return try MPICommunicator.world()
        #else
        throw DistributedError.notBuiltWithMPI
        #endif
    }

    /// This machine's host name (as `hostname` prints it), which error messages name beside the rank.
    public static var hostName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown host" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Ends the communication layer of this process before a normal exit (MPI_Finalize); does nothing
    /// without MPI or when it was never started. Every rank must call it.
    public static func finalize() {
        #if MPI
        var initialized: Int32 = 0
        MPI_Initialized(&initialized)
        if initialized != 0, let world = try? MPICommunicator.world() { world.finalize() }
        #endif
    }
}
