import BNN
import Dispatch
import Foundation

/// Runs a ``PackedModel`` on batches of images: its plan compiled once into prepared kernels and
/// fused passes (see <doc:Deploying>), binary convolutions as XNOR-popcount on 1-bit signs, float
/// layers through the packed SGEMM kernels, every operation split over the cores.
///
/// Buffers are allocated for the first batch of a size and reused; calls are serialised (one run at
/// a time per engine; the run itself uses all threads).
///
/// ```swift
/// let engine = try InferenceEngine(contentsOf: URL(fileURLWithPath: "birealnet18.bnnpack"))
/// let logits = try engine.logits(for: images)   // N×224×224×3 → N×1000
/// ```
public final class InferenceEngine: @unchecked Sendable {
    /// The model being run.
    public let model: PackedModel
    private let program: EngineProgram
    private let lock = NSLock()
    private var workspace: EngineWorkspace?

    /// Compiles `model`: packs the float weights into the SGEMM layout and the binary signs into the
    /// kernels' blocked layout, and chooses every kernel (`BNN_KERNELS` forces one family).
    ///
    /// - Throws: `BinaryKernelError` when a binary kernel cannot be prepared on this CPU, and
    ///   ``InferenceError/tooLarge(batch:bytes:limit:)`` when the buffers of one image would take more
    ///   than half the memory.
    public init(model: PackedModel) throws {
        self.model = model
        program = try EngineCompiler.compile(model.steps, height: model.inputHeight, width: model.inputWidth,
                                             channels: model.inputChannels)
        let (bytes, limit) = (program.workspaceBytes(batch: 1), Self.memoryLimit)
        guard bytes <= limit else { throw InferenceError.tooLarge(batch: 1, bytes: bytes, limit: limit) }
    }

    /// The most the buffers of a run may take: half the physical memory.
    private static var memoryLimit: Int { Int(ProcessInfo.processInfo.physicalMemory / 2) }

    /// Loads a packed model file and compiles it; see ``PackedModel/init(contentsOf:)`` for the errors.
    public convenience init(contentsOf url: URL) throws {
        try self.init(model: PackedModel(contentsOf: url))
    }

    /// The operations the plan was compiled into, with their profile names, in execution order.
    public var operationNames: [String] { program.operations.map(\.name) }

    /// The logits, N×classes, of N×H×W×C images (normalised, channels last) of the model's input size.
    ///
    /// - Throws: ``InferenceError/inputShape(expected:found:)`` for another shape.
    public func logits(for images: Tensor) throws -> Tensor {
        var profile: InferenceProfile?
        return try run(images, profile: &profile)
    }

    /// As ``logits(for:)``, adding the time of every operation and the count of activations the
    /// 1-bit code could not represent to `profile`.
    public func logits(for images: Tensor, profile: inout InferenceProfile) throws -> Tensor {
        var optional: InferenceProfile? = profile
        let logits = try run(images, profile: &optional)
        if let optional { profile = optional }
        return logits
    }

    private func run(_ images: Tensor, profile: inout InferenceProfile?) throws -> Tensor {
        let (h, w, c) = (model.inputHeight, model.inputWidth, model.inputChannels)
        guard images.rank == 4, images.shape[0] > 0, images.shape[1] == h, images.shape[2] == w, images.shape[3] == c else {
            throw InferenceError.inputShape(expected: "N×\(h)×\(w)×\(c) (N ≥ 1, channels last)", found: images.shape)
        }
        let batch = images.shape[0]
        try Self.checkFinite(images)
        lock.lock()
        defer { lock.unlock() }
        let ws: EngineWorkspace
        if let existing = workspace, existing.batch == batch {
            ws = existing
        } else {
            workspace = nil
            let (bytes, limit) = (program.workspaceBytes(batch: batch), Self.memoryLimit)
            guard bytes <= limit else { throw InferenceError.tooLarge(batch: batch, bytes: bytes, limit: limit) }
            ws = EngineWorkspace(program: program, batch: batch)
            workspace = ws
        }
        return images.withUnsafeBufferPointer { input in
            // The operations read the images where they are: no operation writes the input (the slot
            // assignment never lets one work in place of it).
            var values = ws.frame.values
            for v in program.inputValues { values[v] = UnsafeMutablePointer(mutating: input.baseAddress!) }
            let frame = EngineFrame(batch: batch, values: values, packed: ws.frame.packed, padded: ws.frame.padded)
            return run(frame, batch: batch, profile: &profile)
        }
    }

    /// Runs every operation on `frame` and returns the logits.
    private func run(_ frame: EngineFrame, batch: Int, profile: inout InferenceProfile?) -> Tensor {
        var unrepresentable = 0
        for (index, operation) in program.operations.enumerated() {
            guard profile != nil else {
                unrepresentable += operation.run(frame)
                continue
            }
            let start = DispatchTime.now().uptimeNanoseconds
            unrepresentable += operation.run(frame)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
            profile?.record(index, name: operation.name, kind: operation.kind, macs: operation.macs(batch: batch), seconds: seconds)
        }
        if profile != nil {
            profile?.runs += 1
            profile?.zeroActivations += unrepresentable
        }
        let classes = model.classCount
        let output = frame.values[program.output]
        return Tensor(shape: [batch, classes], unsafeUninitialized: { $0.baseAddress!.update(from: output, count: batch * classes) })
    }

    /// Refuses input with NaN or infinite values, as every engine of the package does: a 1-bit sign of
    /// NaN means nothing, and the float model would give NaN rows.
    ///
    /// - Throws: ``InferenceError/nonFiniteInput(count:firstIndex:)``.
    public static func checkFinite(_ images: Tensor) throws {
        if let (count, firstIndex) = images.withUnsafeBufferPointer(nonFinite) {
            throw InferenceError.nonFiniteInput(count: count, firstIndex: firstIndex)
        }
    }

    /// How many values are NaN or infinite and the index of the first, or nil when all are finite.
    /// `x·0` is 0 for every finite `x` and NaN otherwise, so one vectorised pass finds out whether any is.
    private static func nonFinite(_ x: UnsafeBufferPointer<Float>) -> (count: Int, firstIndex: Int)? {
        guard let base = x.baseAddress else { return nil }
        let raw = UnsafeRawPointer(base)
        var probe = SIMD16<Float>(repeating: 0)
        var i = 0
        while i + 16 <= x.count {
            probe += raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self) * 0
            i += 16
        }
        var tail: Float = 0
        while i < x.count {
            tail += x[i] * 0
            i += 1
        }
        guard probe.sum().isNaN || tail.isNaN else { return nil }
        let bad = x.indices.filter { !x[$0].isFinite }
        return (bad.count, bad[0])
    }
}
