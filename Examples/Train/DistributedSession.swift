import BNNDistributed
import BNNProgramSupport
import Foundation

/// How `birealnet-train` runs as one rank of a data-parallel job (`--distributed` under mpirun), or
/// as the only process.
///
/// Errors are reported so that the job never hangs: an error every rank agreed on (a rank that could
/// not read its data, different models) is printed once by rank 0, then every rank ends MPI and
/// exits with status 1; an error of this rank alone is printed with its rank and ends the whole job
/// through MPI_Abort (the others may be waiting for it in a collective).
struct DistributedSession {
    let communicator: any Communicator
    let isDistributed: Bool

    /// Joins the MPI job with `--distributed`, or runs alone.
    ///
    /// - Throws: ``DistributedError/notBuiltWithMPI`` when built without the trait `MPI`.
    init(settings: TrainSettings) throws {
        isDistributed = settings.flags.has("distributed")
        communicator = isDistributed ? try DistributedRuntime.world() : SingleProcessCommunicator()
    }

    /// Runs `body`, then ends MPI; handles errors as described above.
    func run(_ body: () throws -> Void) throws {
        do {
            try body()
            DistributedRuntime.finalize()
        } catch let error as DistributedError {
            guard isDistributed else { throw error }
            if communicator.isPrimary {
                fflush(stdout)
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            }
            DistributedRuntime.finalize()
            exit(1)
        } catch {
            guard isDistributed, communicator.worldSize > 1 else {
                DistributedRuntime.finalize()
                throw error
            }
            fflush(stdout)
            FileHandle.standardError.write(Data("error: rank \(communicator.rank) of \(communicator.worldSize): \(error)\n".utf8))
            communicator.abort(exitCode: 1)
        }
    }

    /// Ends MPI and exits with `code`.
    func exit(_ code: Int32) -> Never {
        DistributedRuntime.finalize()
        Foundation.exit(code)
    }
}
