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

    /// Model names of BatchNorm batch counts (`num_batches_tracked`) the file lacks, set to 0 (the
    /// file was saved before PyTorch 0.4.1 or converted from Keras/Larq), in model order.
    public var countsStartedAtZero: [String]

    /// Creates a report from its lists.
    public init(loaded: [String], missing: [String], unexpected: [String], ignored: [String],
                countsStartedAtZero: [String] = []) {
        self.loaded = loaded
        self.missing = missing
        self.unexpected = unexpected
        self.ignored = ignored
        self.countsStartedAtZero = countsStartedAtZero
    }

    /// One line for the user when batch counts started at 0 (nil otherwise): how many, and why that is
    /// harmless (the count only matters for a momentum of `nil`, a cumulative average).
    public var note: String? {
        guard let first = countsStartedAtZero.first else { return nil }
        let others = countsStartedAtZero.count - 1
        return "note: the checkpoint has no num_batches_tracked for \(first)"
            + (others > 0 ? " and \(others) other BatchNorm layer\(others == 1 ? "" : "s")" : "")
            + " (saved before PyTorch 0.4.1 or converted from Keras/Larq); the counts start at 0, as PyTorch's load_state_dict does"
    }
}
