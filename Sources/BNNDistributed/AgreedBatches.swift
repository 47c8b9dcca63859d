import BNN

/// The training batches of one rank for one epoch, wrapped so that all ranks end the epoch after the
/// same batch: when a rank runs out of batches, or cannot read its data, every rank's sequence ends.
///
/// Each ``next()`` is a collective (one all-reduce of two integers); the first of an epoch is preceded
/// by a ``Communicator/barrier()``, where the other ranks wait while rank 0 validates and writes its
/// checkpoint (a wait that may last long, so it is not bounded like the other collectives; see
/// `MPICommunicator`). When a rank's data failed, the
/// failing rank's error message is sent to all, ``failure`` is set on every rank, and `onFailure` runs
/// (``DataParallel`` uses it to request a trainer stop, so the epoch counts as interrupted and the
/// checkpoint written at its end resumes at the last batch all ranks completed).
public final class AgreedBatches<Base: IteratorProtocol>: Sequence, IteratorProtocol where Base.Element == LabeledBatch {
    private var base: Base
    private let communicator: any Communicator
    private let localError: () -> (any Error)?
    private let onFailure: () -> Void
    /// Set on every rank when a rank's batches ended with an error; names that rank and the cause.
    public private(set) var failure: DistributedError?
    private var started = false

    /// Wraps `base`, whose end is a failure when `localError` then returns an error.
    public init(_ base: Base, communicator: any Communicator, localError: @escaping () -> (any Error)?,
                onFailure: @escaping () -> Void = {}) {
        self.base = base
        self.communicator = communicator
        self.localError = localError
        self.onFailure = onFailure
    }

    /// This rank's next batch, or `nil` on every rank when any rank has ended or failed.
    public func next() -> LabeledBatch? {
        guard failure == nil else { return nil }
        if !started {
            started = true
            communicator.barrier()
        }
        let batch = base.next()
        let error = batch == nil ? localError() : nil
        var status: [Int64] = [batch == nil ? 1 : 0, error == nil ? 0 : Int64(communicator.rank + 1)]
        communicator.allReduceMax(&status)
        if status[1] > 0 {
            let failedRank = Int(status[1] - 1)
            let reason = communicator.broadcast(error.map { "\($0)" } ?? "", root: failedRank)
            let host = communicator.broadcast(DistributedRuntime.hostName, root: failedRank)
            failure = .rankFailed(rank: failedRank, worldSize: communicator.worldSize, host: host, reason: reason)
            onFailure()
            return nil
        }
        return status[0] == 0 ? batch : nil
    }
}
