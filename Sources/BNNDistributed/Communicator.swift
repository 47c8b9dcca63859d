/// The collective operations data-parallel training needs, between the ranks `0 ..< worldSize` of
/// one job.
///
/// Every rank must call the same collectives in the same order with buffers of the same length;
/// calls block until all ranks have joined. Only one thread of a process may call a communicator.
///
/// Two implementations: ``SingleProcessCommunicator`` (one rank, no communication; always available)
/// and `MPICommunicator` (built with the package trait `MPI`).
public protocol Communicator: AnyObject {
    /// This process's rank, `0 ..< worldSize`; rank 0 writes checkpoints, logs and progress.
    var rank: Int { get }
    /// The number of processes in the job.
    var worldSize: Int { get }
    /// This process's index among the processes of its machine.
    var localRank: Int { get }
    /// The number of processes of the job on this machine (they share its cores).
    var localSize: Int { get }

    /// Replaces every element by its sum over all ranks.
    func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>)
    /// Replaces every element by its sum over all ranks.
    func allReduceSum(_ values: UnsafeMutableBufferPointer<Double>)
    /// Replaces every element by its maximum over all ranks.
    func allReduceMax(_ values: UnsafeMutableBufferPointer<Int64>)
    /// Copies `root`'s bytes into every other rank's buffer of the same length.
    func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int)
    /// Waits until every rank has called it.
    func barrier()
    /// Ends every process of the job at once with `exitCode` (used when this rank cannot go on and
    /// the others may be waiting for it in a collective).
    func abort(exitCode: Int32) -> Never
}
