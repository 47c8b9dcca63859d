/// What ``Checkpoint/load(into:strict:renaming:)`` did with each tensor.
///
/// In strict mode ``missing`` and ``unexpected`` are always empty (loading throws instead).
public struct CheckpointLoadReport: Equatable, Sendable {
    /// Model parameter names whose value was replaced, in model order.
    public var loaded: [String]
    /// Model parameter names the checkpoint has no tensor for (left unchanged), in model order.
    public var missing: [String]
    /// Checkpoint tensor names (as stored) that map to no model parameter, sorted.
    public var unexpected: [String]
    /// Checkpoint tensor names (as stored) that the renaming ignored, sorted.
    public var ignored: [String]

    /// Creates a report from its four lists.
    public init(loaded: [String], missing: [String], unexpected: [String], ignored: [String]) {
        self.loaded = loaded
        self.missing = missing
        self.unexpected = unexpected
        self.ignored = ignored
    }
}
