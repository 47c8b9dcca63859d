/// Errors of data-parallel training.
public enum DistributedError: Error, Equatable, CustomStringConvertible {
    /// MPI could not be started.
    case initializationFailed(reason: String)
    /// The ranks do not hold the same model: the parameter names or shapes differ.
    case modelMismatch(rank: Int, detail: String)
    /// A rank could not go on (its data could not be read, for example); every rank stops after the
    /// same batch and reports this, naming the rank and its host.
    case rankFailed(rank: Int, worldSize: Int, host: String, reason: String)
    /// `--distributed` in a build without the `MPI` trait.
    case notBuiltWithMPI

    /// A message naming the rank and the cause.
    public var description: String {
        switch self {
        case .initializationFailed(let reason):
            return "cannot start MPI: \(reason)"
        case .modelMismatch(let rank, let detail):
            return "rank \(rank) holds a different model than rank 0: \(detail) (every rank must use the same settings)"
        case .rankFailed(let rank, let worldSize, let host, let reason):
            return "rank \(rank) of \(worldSize) on host \(host) failed, so all ranks stopped: \(reason)"
        case .notBuiltWithMPI:
            return "this build has no MPI support; build with `swift build -c release --traits MPI` "
                + "(needs libopenmpi-dev) and launch with mpirun"
        }
    }
}
