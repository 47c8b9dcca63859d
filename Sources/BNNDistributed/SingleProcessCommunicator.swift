import Foundation

/// The communicator of a job with one process: every collective is the identity.
///
/// The default when the package is built without the `MPI` trait, and the way to run the
/// data-parallel code paths in a single process.
public final class SingleProcessCommunicator: Communicator {
    /// Creates the communicator.
    public init() {}

    /// Always 0.
    public var rank: Int { 0 }
    /// Always 1.
    public var worldSize: Int { 1 }
    /// Always 0.
    public var localRank: Int { 0 }
    /// Always 1.
    public var localSize: Int { 1 }

    /// Leaves `values` unchanged (the sum over one rank).
    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) {}
    /// Leaves `values` unchanged (the sum over one rank).
    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Double>) {}
    /// Leaves `values` unchanged (the maximum over one rank).
    public func allReduceMax(_ values: UnsafeMutableBufferPointer<Int64>) {}
    /// Does nothing; `root` must be 0.
    public func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) {
        precondition(root == 0, "SingleProcessCommunicator: broadcast root \(root) outside 0..<1")
    }
    /// Copies `send` to `receive` (the one block is this rank's own).
    public func allToAll(_ send: UnsafeRawBufferPointer, _ receive: UnsafeMutableRawBufferPointer) {
        precondition(send.count == receive.count, "SingleProcessCommunicator: allToAll buffers differ in length")
        receive.copyMemory(from: send)
    }
    /// Copies `send` to `receive`.
    public func allGather(_ send: UnsafeRawBufferPointer, _ receive: UnsafeMutableRawBufferPointer) {
        precondition(send.count == receive.count, "SingleProcessCommunicator: allGather needs receive as long as send")
        receive.copyMemory(from: send)
    }
    /// Returns at once.
    public func barrier() {}
    /// Exits the process with `exitCode`.
    public func abort(exitCode: Int32) -> Never { exit(exitCode) }
}
