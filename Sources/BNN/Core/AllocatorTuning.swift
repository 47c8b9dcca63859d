import BNNKernels

/// Process-wide tuning of the C allocator for training loops.
///
/// Tensor storage comes from ``TensorAllocator``, which caches freed large blocks itself on every
/// platform; this tuning is for the other large buffers a step allocates through the C allocator
/// (the kernels' column and packing workspaces). With
/// glibc's default settings the larger ones get fresh memory mappings each step and freed memory
/// goes back to the system, so each step pays page faults for memory it had a moment before: on the
/// 2-core development machine that is about a fifth of Bi-Real Net 34's forward pass at batch 16.
/// ``keepFreedMemory(upTo:)`` makes the allocator keep and reuse it. `birealnet-train` and
/// `bnn-bench training` call it at start-up; call it in your own training program the same way.
/// The cost is that the process keeps its peak memory until it exits.
public enum AllocatorTuning {
    /// Makes the C allocator serve blocks up to 32 MiB from its heap, keep up to `bytes` of freed
    /// heap for reuse, and grow the heap 64 MiB at a time.
    ///
    /// - Parameter bytes: freed memory the allocator may keep (at most `Int32.max`); default 1 GiB.
    /// - Returns: whether the settings were applied (false where the C library is not glibc).
    @discardableResult
    public static func keepFreedMemory(upTo bytes: Int = 1 << 30) -> Bool {
        bnn_memory_retain_freed(max(0, bytes)) != 0
    }
}
