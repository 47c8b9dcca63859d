import BNN
import Foundation

extension Communicator {
    /// The divergence of the lowest rank that saw one, or `nil` when none did; the same on every rank.
    ///
    /// One all-reduce of an integer, and one broadcast of the record only when some rank diverged. On
    /// the other ranks the reason says which rank saw it.
    public func agreedDivergence(_ local: Divergence?) -> Divergence? {
        var first: [Int64] = [local == nil ? Int64.min : -Int64(rank)]   // max of −rank: the lowest rank
        allReduceMax(&first)
        guard first[0] != Int64.min else { return nil }
        let root = Int(-first[0])
        let json = broadcast(local.flatMap { try? Checkpoint.metadataJSON($0) } ?? "", root: root)
        let record = (try? JSONDecoder().decode(Divergence.self, from: Data(json.utf8)))
            ?? Divergence(epoch: 0, globalStep: 0, reason: "(the record could not be decoded)")
        if root == rank { return record }
        return Divergence(epoch: record.epoch, globalStep: record.globalStep, reason: "on rank \(root): \(record.reason)")
    }
}
