import BNN
import Dispatch

/// Averages the gradients of all ranks in buckets: the reduction ``BNN/Trainer/gradientReducer`` needs.
///
/// Gradients are copied into contiguous buckets of about ``bucketCapacity`` floats, in reverse
/// parameter order (the order in which the backward pass finishes them: classifier first, stem last);
/// each bucket is all-reduced and copied back scaled by 1 / ``Communicator/worldSize``, so every
/// gradient becomes its mean over the ranks. A parameter larger than a bucket gets a bucket of its
/// own. The plan is made on the first call and remade when the parameter list changes. Buckets make
/// few large messages out of many small tensors (one per BatchNorm γ, β, …) while bounding the extra
/// memory to the gradient size.
///
/// The reduction runs after the backward pass, not overlapped with it: the layers give no signal when
/// a gradient is final, and Open MPI's non-blocking all-reduce, progressed only inside MPI calls,
/// measured 3.7× slower than the blocking one for Bi-Real Net 34's 87 MB here (192 ms against
/// 52 ms), which is more than overlap could win back. ``communicationSeconds`` measures the
/// reduction, the most that overlap could save.
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
    /// Wall-clock seconds spent in ``reduce(_:)`` so far (packing, transfers, unpacking).
    public private(set) var communicationSeconds = 0.0
    /// Gradient bytes this rank contributed to all-reduces so far.
    public private(set) var reducedBytes = 0
    /// Calls of ``reduce(_:)`` so far.
    public private(set) var reductionCount = 0

    private var plan: [Bucket] = []
    private var plannedCounts: [Int] = []

    /// One bucket: a buffer and the parameters packed into it.
    private struct Bucket {
        var members: [(parameter: Int, offset: Int, count: Int)]
        var buffer: UnsafeMutableBufferPointer<Float>
    }

    /// Creates a reducer with buckets of `bucketBytes` (4 MiB by default).
    public init(communicator: any Communicator, bucketBytes: Int = 4 << 20) {
        precondition(bucketBytes >= MemoryLayout<Float>.size, "GradientAllReducer: bucketBytes must hold one float")
        self.communicator = communicator
        bucketCapacity = bucketBytes / MemoryLayout<Float>.size
    }

    deinit {
        for bucket in plan { bucket.buffer.deallocate() }
    }

    /// The number of buckets of the current plan.
    public var bucketCount: Int { plan.count }

    /// Replaces every parameter's gradient by its mean over all ranks. A collective: every rank must
    /// call it with parameters of the same shapes in the same order.
    public func reduce(_ parameters: [Parameter]) {
        guard communicator.worldSize > 1 else { return }
        let start = DispatchTime.now()
        makePlan(for: parameters)
        let scale = 1 / Float(communicator.worldSize)
        for bucket in plan {
            for member in bucket.members {
                parameters[member.parameter].gradient.withUnsafeBufferPointer { gradient in
                    (bucket.buffer.baseAddress! + member.offset).update(from: gradient.baseAddress!, count: member.count)
                }
            }
            communicator.allReduceSum(bucket.buffer)
            reducedBytes += bucket.buffer.count * MemoryLayout<Float>.size
            for member in bucket.members {
                let source = bucket.buffer.baseAddress! + member.offset
                parameters[member.parameter].gradient.withUnsafeMutableBufferPointer { gradient in
                    for i in 0..<member.count { gradient[i] = source[i] * scale }
                }
            }
        }
        reductionCount += 1
        communicationSeconds += Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
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
            plan.append(Bucket(members: members, buffer: buffer))
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
