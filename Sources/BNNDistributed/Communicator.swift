/// The collective operations data-parallel training needs, between the ranks `0 ..< worldSize` of
/// one job.
///
/// Every rank must call the same collectives in the same order with buffers of the same length;
/// calls block until all ranks have joined. Only one thread at a time may call a communicator (the
/// thread may change: ``CommunicationThread`` moves all calls to a thread of its own).
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
    /// Personalised exchange: `send` holds ``worldSize`` equal blocks, block `j` going to rank `j`;
    /// `receive` (as long as `send`) gets in block `i` what rank `i` sent to this rank.
    func allToAll(_ send: UnsafeRawBufferPointer, _ receive: UnsafeMutableRawBufferPointer)
    /// Gathers every rank's `send` bytes (the same length on all) into `receive`, rank `i`'s at block
    /// `i` (`receive` is ``worldSize`` times as long as `send`).
    func allGather(_ send: UnsafeRawBufferPointer, _ receive: UnsafeMutableRawBufferPointer)
    /// Waits until every rank has called it.
    func barrier()
    /// Ends every process of the job at once with `exitCode` (used when this rank cannot go on and
    /// the others may be waiting for it in a collective).
    func abort(exitCode: Int32) -> Never
}
