import BNN

extension Communicator {
    /// Whether this process is rank 0, the one that writes checkpoints, logs and progress.
    public var isPrimary: Bool { rank == 0 }

    /// Sums `values` in place over all ranks.
    public func allReduceSum(_ values: inout [Double]) {
        values.withUnsafeMutableBufferPointer { allReduceSum($0) }
    }

    /// Replaces `values` in place by their maxima over all ranks.
    public func allReduceMax(_ values: inout [Int64]) {
        values.withUnsafeMutableBufferPointer { allReduceMax($0) }
    }

    /// Whether `flag` is `true` on any rank; the same answer on every rank.
    public func anyRank(_ flag: Bool) -> Bool {
        var value: [Int64] = [flag ? 1 : 0]
        allReduceMax(&value)
        return value[0] != 0
    }

    /// Copies `root`'s tensor values into `tensor` on every rank; shapes must already agree.
    public func broadcast(_ tensor: inout Tensor, root: Int) {
        tensor.withUnsafeMutableBufferPointer { broadcast(UnsafeMutableRawBufferPointer($0), root: root) }
    }

    /// Returns `root`'s `text` on every rank (the argument is ignored on the other ranks).
    public func broadcast(_ text: String, root: Int) -> String {
        var bytes = Array(text.utf8)
        var length: [Int64] = [rank == root ? Int64(bytes.count) : 0]
        length.withUnsafeMutableBytes { broadcast($0, root: root) }
        if rank != root { bytes = [UInt8](repeating: 0, count: Int(length[0])) }
        bytes.withUnsafeMutableBytes { broadcast($0, root: root) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
