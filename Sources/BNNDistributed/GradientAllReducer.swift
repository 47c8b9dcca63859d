import BNN
import Dispatch

/// How gradients travel in the all-reduce.
public enum GradientPrecision: String, Sendable, CaseIterable {
    /// Floats, summed exactly as MPI sums them.
    case float32
    /// bfloat16 on the wire, summed in float32 at the receiver (``BFloat16AllReduce``): half the bytes.
    case bfloat16
}

/// Averages the gradients of all ranks in buckets: the reduction ``BNN/Trainer/gradientReducer`` needs.
///
/// Gradients are copied into contiguous buckets of about ``bucketCapacity`` floats, in reverse
/// parameter order (the order in which the backward pass finishes them: classifier first, stem last);
/// each bucket is all-reduced (in ``precision``) and copied back scaled by 1 / ``Communicator/worldSize``,
/// so every gradient becomes its mean over the ranks. A parameter larger than a bucket gets a bucket
/// of its own. Buckets make few large messages out of many small tensors (one per BatchNorm γ, β, …)
/// while bounding the extra memory to the gradient size.
///
/// **Overlap.** After ``overlapBackward(of:parameters:thread:)``, each bucket is handed to a
/// ``CommunicationThread`` as soon as the backward pass has finished every parameter in it (reported
/// by the model's ``BNN/BackwardProgressReporting`` containers, armed by ``backwardWillStart(parameters:)``), and
/// ``reduce(_:)`` only waits for the last buckets. Buckets start in the order they become complete,
/// the same on every rank. Without the overlap, ``reduce(_:)`` reduces every bucket after the
/// backward pass. Both give the same bits.
///
/// ```swift
/// let reducer = GradientAllReducer(communicator: world)
/// trainer.gradientReducer = { reducer.reduce($0) }
/// ```
public final class GradientAllReducer {
    /// The ranks whose gradients are averaged.
    public let communicator: any Communicator
    /// Floats per bucket (at least 1).
    public let bucketCapacity: Int
    /// How the buckets travel.
    public let precision: GradientPrecision
    /// Wall-clock seconds the training thread spent in ``reduce(_:)`` so far (packing, transfers not
    /// yet overlapped, unpacking): the communication that the step waited for.
    public private(set) var communicationSeconds = 0.0
    /// Wall-clock seconds spent in bucket all-reduces so far, wherever they ran (with overlap, on the
    /// communication thread, partly hidden behind the backward pass).
    public private(set) var transferSeconds = 0.0
    /// Gradient bytes this rank contributed to all-reduces so far.
    public private(set) var reducedBytes = 0
    /// Calls of ``reduce(_:)`` so far.
    public private(set) var reductionCount = 0
    /// Buckets started before the backward pass ended, so far (0 without overlap).
    public private(set) var overlappedBucketCount = 0

    private var plan: [Bucket] = []
    private var plannedCounts: [Int] = []
    /// With overlap: the thread, each reporting child's parameter indices, and the step's state.
    private var thread: CommunicationThread?
    private var parametersOfChild: [ObjectIdentifier: [Int]] = [:]
    private var bucketOfParameter: [Int] = []
    private var finished: [Bool] = []
    private var remaining: [Int] = []
    private var armedParameters: [Parameter]?
    private var backwardRunning = false

    /// One bucket: a buffer, the parameters packed into it, and its bfloat16 reduction if any.
    private struct Bucket {
        var members: [(parameter: Int, offset: Int, count: Int)]
        var buffer: UnsafeMutableBufferPointer<Float>
        var compact: BFloat16AllReduce?
    }

    /// Creates a reducer with buckets of `bucketBytes` (4 MiB by default) travelling in `precision`.
    public init(communicator: any Communicator, bucketBytes: Int = 4 << 20, precision: GradientPrecision = .float32) {
        precondition(bucketBytes >= MemoryLayout<Float>.size, "GradientAllReducer: bucketBytes must hold one float")
        self.communicator = communicator
        self.precision = precision
        bucketCapacity = bucketBytes / MemoryLayout<Float>.size
    }

    deinit {
        for bucket in plan { bucket.buffer.deallocate() }
    }

    /// The number of buckets of the current plan.
    public var bucketCount: Int { plan.count }

    /// Starts each bucket's all-reduce on `thread` as soon as the backward pass of `model` has
    /// finished its gradients (see the type's description). `parameters` must be the list later given
    /// to ``reduce(_:)`` (``BNN/Optimizer/parameters``); every collective of this process must then go
    /// through `thread` (``QueuedCommunicator``). Parameters outside every reporting container are
    /// reduced when the backward pass ends.
    public func overlapBackward(of model: any Module, parameters: [Parameter], thread: CommunicationThread) {
        guard communicator.worldSize > 1 else { return }
        self.thread = thread
        makePlan(for: parameters)
        let index = Dictionary(parameters.enumerated().map { (ObjectIdentifier($0.element), $0.offset) }, uniquingKeysWith: { a, _ in a })
        bucketOfParameter = Array(repeating: -1, count: parameters.count)
        for (b, bucket) in plan.enumerated() { for member in bucket.members { bucketOfParameter[member.parameter] = b } }
        parametersOfChild = [:]
        func visit(_ module: any Module) {
            if let container = module as? BackwardProgressReporting {
                for (_, child) in module.children {
                    parametersOfChild[ObjectIdentifier(child)] = child.namedParameters().compactMap { index[ObjectIdentifier($0.parameter)] }
                }
                container.childBackwardDidFinish = { [unowned self] child in self.childFinished(child) }
            }
            for (_, child) in module.children { visit(child) }
        }
        visit(model)
    }

    /// Arms the overlap for the backward pass that follows (``BNN/Trainer/backwardWillStart``).
    public func backwardWillStart(parameters: [Parameter]) {
        guard thread != nil, parameters.map(\.gradient.count) == plannedCounts else { return }
        finished = Array(repeating: false, count: parameters.count)
        remaining = plan.map(\.members.count)
        armedParameters = parameters
        backwardRunning = true
    }

    /// Replaces every parameter's gradient by its mean over all ranks. A collective: every rank must
    /// call it with parameters of the same shapes in the same order.
    public func reduce(_ parameters: [Parameter]) {
        guard communicator.worldSize > 1 else { return }
        let start = DispatchTime.now()
        if let thread, armedParameters != nil {
            backwardRunning = false
            for index in parameters.indices { markFinished(index) }
            armedParameters = nil
            thread.waitUntilIdle()
        } else {
            makePlan(for: parameters)
            for bucket in plan {
                pack(bucket, from: parameters)
                transfer(bucket)
            }
        }
        let scale = 1 / Float(communicator.worldSize)
        for bucket in plan {
            for member in bucket.members {
                let source = bucket.buffer.baseAddress! + member.offset
                parameters[member.parameter].gradient.withUnsafeMutableBufferPointer { gradient in
                    for i in 0..<member.count { gradient[i] = source[i] * scale }
                }
            }
        }
        reductionCount += 1
        communicationSeconds += Self.seconds(since: start)
    }

    private func childFinished(_ child: any Module) {
        guard armedParameters != nil, let indices = parametersOfChild[ObjectIdentifier(child)] else { return }
        for index in indices { markFinished(index) }
    }

    /// Marks one parameter's gradient final and starts its bucket once the bucket is complete.
    private func markFinished(_ index: Int) {
        guard let parameters = armedParameters, let thread, !finished[index] else { return }
        finished[index] = true
        let b = bucketOfParameter[index]
        guard b >= 0 else { return }
        remaining[b] -= 1
        guard remaining[b] == 0 else { return }
        let bucket = plan[b]
        pack(bucket, from: parameters)
        if backwardRunning { overlappedBucketCount += 1 }
        thread.submit { [unowned self] in self.transfer(bucket) }
    }

    private func pack(_ bucket: Bucket, from parameters: [Parameter]) {
        for member in bucket.members {
            parameters[member.parameter].gradient.withUnsafeBufferPointer { gradient in
                (bucket.buffer.baseAddress! + member.offset).update(from: gradient.baseAddress!, count: member.count)
            }
        }
    }

    /// The all-reduce of one bucket (on the communication thread when overlapping).
    private func transfer(_ bucket: Bucket) {
        let start = DispatchTime.now()
        if let compact = bucket.compact { compact.sum(bucket.buffer) } else { communicator.allReduceSum(bucket.buffer) }
        reducedBytes += bucket.buffer.count * (bucket.compact == nil ? 4 : 2)
        transferSeconds += Self.seconds(since: start)
    }

    private static func seconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }

    /// Groups the parameters, last first, into buckets, unless the plan already fits.
    private func makePlan(for parameters: [Parameter]) {
        let counts = parameters.map(\.gradient.count)
        guard counts != plannedCounts else { return }
        for bucket in plan { bucket.buffer.deallocate() }
        plan = []
        var members: [(parameter: Int, offset: Int, count: Int)] = []
        var filled = 0
        func close() {
            guard filled > 0 else { return }
            let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: filled)
            buffer.initialize(repeating: 0)
            let compact = precision == .bfloat16 ? BFloat16AllReduce(count: filled, communicator: communicator) : nil
            plan.append(Bucket(members: members, buffer: buffer, compact: compact))
            members = []
            filled = 0
        }
        for index in counts.indices.reversed() where counts[index] > 0 {
            if filled > 0 && filled + counts[index] > bucketCapacity { close() }
            members.append((index, filled, counts[index]))
            filled += counts[index]
        }
        close()
        plannedCounts = counts
    }
}
