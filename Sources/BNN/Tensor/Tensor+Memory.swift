/// The memory behind tensors, for training loops and benchmarks.
extension Tensor {
    /// The counters of ``TensorAllocator/shared``, the allocator of every tensor's storage: bytes in
    /// use by live tensors, their peak, and bytes of freed blocks cached for reuse.
    public static var memoryStatistics: TensorMemoryStatistics { TensorAllocator.shared.statistics }

    /// Returns the freed tensor blocks that ``TensorAllocator/shared`` keeps for reuse to the system
    /// (for example between training and evaluation, or before handing memory to another program).
    public static func releaseCachedMemory() { TensorAllocator.shared.releaseCachedMemory() }
}
