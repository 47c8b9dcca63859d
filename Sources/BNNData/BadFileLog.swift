import Foundation

/// Records bad files: one warning line per file on standard error for the life of the loader, and the
/// set of bad samples met in each epoch. Thread-safe.
final class BadFileLog: @unchecked Sendable {
    private let lock = NSLock()
    private var warned = Set<String>()
    private var badByEpoch = [Int: Set<Int>]()

    /// Notes that sample `index` (file `path`) failed in `epoch`; warns when the file is new.
    func record(index: Int, path: String, reason: String, epoch: Int) {
        lock.lock()
        let isNew = warned.insert(path).inserted
        badByEpoch[epoch, default: []].insert(index)
        lock.unlock()
        if isNew {
            FileHandle.standardError.write(Data("warning: skipping bad image \(path): \(reason)\n".utf8))
        }
    }

    /// The number of distinct bad samples met in `epoch`.
    func count(epoch: Int) -> Int {
        lock.lock()
        defer { lock.unlock() }
        return badByEpoch[epoch]?.count ?? 0
    }
}
