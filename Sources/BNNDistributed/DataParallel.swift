import BNN

/// Data-parallel training of one ``BNN/Trainer`` per rank: identical initial weights, gradients
/// averaged over ranks in every step, optional synchronised BatchNorm, and stops and failures agreed
/// so that every rank leaves an epoch after the same batch.
///
/// The replicas stay identical: with synchronised BatchNorm the running statistics are the global
/// batch's on every rank; without it they are averaged over the ranks in every step (one small
/// all-reduce: 18,048 values for Bi-Real Net 34), so a checkpoint of rank 0 holds statistics of all
/// the data, not of rank 0's shard alone.
///
/// Each rank reads its own shard of the data (with `DataLoaderConfiguration(rank:worldSize:)`),
/// so the global batch is `worldSize ×` the per-rank batch; with synchronised BatchNorm the result
/// equals one process training on the global batch, up to float rounding. Only rank 0
/// (``Communicator/isPrimary``) should attach callbacks that write files or print progress.
///
/// ```swift
/// let world = try MPICommunicator.world()
/// let parallel = DataParallel(communicator: world)
/// try parallel.attach(to: trainer, synchronizedBatchNorm: true)
/// let batches = parallel.batches(LoaderBatches(loader, epoch: e), for: trainer) { loaderBatches.error }
/// trainer.runEpoch(training: batches, validation: world.isPrimary ? validation : nil)
/// if let failure = batches.failure { throw failure }
/// ```
public final class DataParallel {
    /// The ranks of the job.
    public let communicator: any Communicator
    /// The gradient averaging installed in the trainer (its timers measure communication).
    public let gradients: GradientAllReducer
    /// Whether gradient all-reduces run on a ``CommunicationThread`` during the backward pass.
    public let overlapsBackward: Bool
    /// The communicator of every collective installed by ``attach(to:synchronizedBatchNorm:)`` and
    /// ``batches(_:for:localError:)``: ``communicator`` itself, or, with overlap, the same through
    /// the communication thread (so that one thread at a time calls MPI, in the same order on all ranks).
    public private(set) var collectives: any Communicator
    private var thread: CommunicationThread?

    /// Creates the coordinator; gradients travel in buckets of `bucketBytes`, in `precision`, and
    /// with `overlapsBackward` during the backward pass (see ``GradientAllReducer``).
    public init(communicator: any Communicator, bucketBytes: Int = 4 << 20, precision: GradientPrecision = .float32,
                overlapsBackward: Bool = false) {
        self.communicator = communicator
        self.overlapsBackward = overlapsBackward && communicator.worldSize > 1
        collectives = communicator
        gradients = GradientAllReducer(communicator: communicator, bucketBytes: bucketBytes, precision: precision)
    }

    deinit { thread?.stop() }

    /// Checks that every rank holds a model with the same parameter names and shapes, then copies
    /// rank 0's values (weights and buffers) to every rank. A collective.
    ///
    /// - Throws: ``DistributedError/modelMismatch(rank:detail:)`` on every rank when a rank's model
    ///   differs from rank 0's.
    public func synchronizeParameters(of model: any Module) throws {
        let named = model.namedParameters()
        var fingerprint: UInt64 = 0xCBF2_9CE4_8422_2325
        for (name, parameter) in named {
            for byte in "\(name)\(parameter.value.shape);".utf8 { fingerprint = (fingerprint ^ UInt64(byte)) &* 0x100_0000_01B3 }
        }
        let scalars = named.reduce(0) { $0 + $1.parameter.value.count }
        var reference: [Int64] = [Int64(bitPattern: fingerprint), Int64(named.count), Int64(scalars)]
        reference.withUnsafeMutableBytes { communicator.broadcast($0, root: 0) }
        var differing: [Int64] = [reference[0] == Int64(bitPattern: fingerprint) ? 0 : Int64(communicator.rank + 1)]
        communicator.allReduceMax(&differing)
        if differing[0] > 0 {
            throw DistributedError.modelMismatch(
                rank: Int(differing[0] - 1),
                detail: "rank 0 has \(reference[1]) tensors with \(reference[2]) values"
                    + (communicator.rank == Int(differing[0] - 1) ? ", this rank \(named.count) with \(scalars)" : ""))
        }
        for (_, parameter) in named { communicator.broadcast(&parameter.value, root: 0) }
    }

    /// Prepares `trainer` for data-parallel training: synchronises the parameters from rank 0 and
    /// installs the gradient averaging, the stop agreement and, when asked, synchronised BatchNorm.
    /// Call it after loading weights or restoring a checkpoint, on every rank.
    ///
    /// - Throws: ``DistributedError/modelMismatch(rank:detail:)``.
    public func attach(to trainer: Trainer, synchronizedBatchNorm: Bool) throws {
        try synchronizeParameters(of: trainer.model)
        let gradients = self.gradients
        if overlapsBackward && thread == nil {
            let thread = CommunicationThread()
            self.thread = thread
            collectives = QueuedCommunicator(communicator, thread: thread)
            gradients.overlapBackward(of: trainer.model, parameters: trainer.optimizer.parameters, thread: thread)
            trainer.backwardWillStart = { [unowned trainer] in gradients.backwardWillStart(parameters: trainer.optimizer.parameters) }
        }
        let communicator = collectives
        trainer.stopAgreement = { communicator.anyRank($0) }
        trainer.divergenceAgreement = { communicator.agreedDivergence($0) }
        if synchronizedBatchNorm {
            SynchronizedBatchNorm.install(in: trainer.model, communicator: communicator)
            trainer.gradientReducer = { gradients.reduce($0) }
        } else {
            SynchronizedBatchNorm.remove(from: trainer.model)
            let model = trainer.model
            trainer.gradientReducer = { parameters in
                gradients.reduce(parameters)
                self.averageBuffers(of: model)
            }
        }
    }

    /// Replaces the model's real-valued buffers (BatchNorm running statistics) by their mean over
    /// the ranks; integer buffers such as `num_batches_tracked` are left alone (they agree). A
    /// collective.
    public func averageBuffers(of model: any Module) {
        let communicator = collectives
        guard communicator.worldSize > 1 else { return }
        let buffers = model.namedParameters().map(\.parameter).filter { $0.kind == .buffer && !$0.storesAsInteger }
        var packed: [Double] = []
        packed.reserveCapacity(buffers.reduce(0) { $0 + $1.value.count })
        for buffer in buffers { packed += buffer.value.scalars.lazy.map(Double.init) }
        communicator.allReduceSum(&packed)
        let scale = 1 / Double(communicator.worldSize)
        var offset = 0
        for buffer in buffers {
            let count = buffer.value.count
            buffer.value.withUnsafeMutableBufferPointer { values in
                for i in 0..<count { values[i] = Float(packed[offset + i] * scale) }
            }
            offset += count
        }
    }

    /// Wraps one epoch of this rank's batches so that all ranks end it together; a rank whose
    /// `localError` reports an error at the end of its batches makes every rank stop `trainer` with
    /// ``AgreedBatches/failure`` set.
    public func batches<S: Sequence>(_ batches: S, for trainer: Trainer, localError: @escaping () -> (any Error)?)
    -> AgreedBatches<S.Iterator> where S.Element == LabeledBatch {
        AgreedBatches(batches.makeIterator(), communicator: collectives, localError: localError,
                      onFailure: { [weak trainer] in trainer?.requestStop() })
    }
}
