/// Settings of a ``DataLoader``.
public struct DataLoaderConfiguration: Sendable {
    /// Images per batch (per rank).
    public var batchSize: Int
    /// Whether each epoch visits the samples in a new seeded random order (training) or in source order.
    public var shuffle: Bool
    /// Whether to drop samples that do not fill a whole batch (and trim the dataset to a multiple of the
    /// world size). Without it the shards are padded by repeating the first samples of the epoch order, as
    /// PyTorch's `DistributedSampler` does, and the last batch may be short.
    public var dropLast: Bool
    /// The seed of shuffling and of every random augmentation.
    public var seed: UInt64
    /// This process's rank in `0 ..< worldSize`.
    public var rank: Int
    /// The number of ranks; each reads a disjoint shard with the same number of batches.
    public var worldSize: Int
    /// Decoding threads.
    public var threadCount: Int
    /// The most batches being built or waiting at once (memory bound); at least `threadCount`.
    public var prefetchBatches: Int
    /// When set, the first bad file throws ``BNNDataError/badFile(path:reason:)`` instead of being skipped.
    public var strict: Bool
    /// Batch mixup / cutmix with soft targets, or `nil`.
    public var mixup: Mixup?
    /// How many bad files in a row the loader tolerates while looking for a replacement.
    public var maximumConsecutiveBadFiles: Int
    /// When set (and not ``strict``), a bad file is left out of its batch instead of replaced by the
    /// next sample, so every image is counted once: what evaluation wants (training wants full batches).
    /// Batches may then be smaller; a batch with no good image is not produced.
    public var dropsBadFiles: Bool

    /// Creates a configuration; defaults suit training on one rank with all cores.
    public init(batchSize: Int, shuffle: Bool = true, dropLast: Bool = true, seed: UInt64 = 0, rank: Int = 0,
                worldSize: Int = 1, threadCount: Int = 2, prefetchBatches: Int? = nil, strict: Bool = false,
                mixup: Mixup? = nil, maximumConsecutiveBadFiles: Int = 64, dropsBadFiles: Bool = false) {
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.dropLast = dropLast
        self.seed = seed
        self.rank = rank
        self.worldSize = worldSize
        self.threadCount = threadCount
        self.prefetchBatches = prefetchBatches ?? 2 * max(threadCount, 1)
        self.strict = strict
        self.mixup = mixup
        self.maximumConsecutiveBadFiles = maximumConsecutiveBadFiles
        self.dropsBadFiles = dropsBadFiles
    }
}
