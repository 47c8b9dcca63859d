/// Counters of a ``TensorAllocator``, in bytes of reserved blocks (size classes, not requests).
public struct TensorMemoryStatistics: Sendable, Equatable, Codable {
    /// Bytes held by live tensors now.
    public var bytesInUse = 0
    /// The most bytes held by live tensors at once since the allocator started or
    /// ``TensorAllocator/resetPeak()`` was last called.
    public var peakBytesInUse = 0
    /// Bytes of freed blocks kept for reuse now.
    public var bytesCached = 0
    /// The cap on ``bytesCached``.
    public var cacheLimit = 0
    /// Allocations served from the cache.
    public var reusedBlocks = 0
    /// Allocations that asked the system for memory.
    public var systemAllocations = 0

    /// Creates zeroed counters.
    public init() {}
}
