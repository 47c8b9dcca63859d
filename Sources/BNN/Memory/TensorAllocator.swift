import Foundation

/// The allocator behind every ``Tensor``'s storage: 64-byte aligned blocks, and a bounded cache of
/// freed large blocks so that a training loop, which allocates and frees the same activation and
/// gradient buffers every step, reuses them instead of mapping (and page-faulting) fresh memory.
///
/// - Blocks of at least ``cachedBlockThreshold`` bytes are rounded up to a size class (eight classes
///   per power of two, so at most 12.5 % is wasted) and, when freed, kept in a free list of their
///   class while the cached total stays within ``cacheLimit``. A request takes a cached block of its
///   own class, or failing that of the smallest cached class at most twice its size (memory the
///   process holds anyway costs no new pages).
/// - Smaller blocks go to the C allocator directly (its own free lists serve them well).
/// - ``releaseCachedMemory()`` returns every cached block to the system; the cache is also emptied
///   when the system refuses an allocation, and the allocation retried once (memory pressure).
///
/// The allocator is thread-safe (one lock, taken once per tensor allocated or freed, never per
/// element). ``shared`` serves all tensors; separate instances exist for tests and measurements.
public final class TensorAllocator: @unchecked Sendable {
    /// The allocator of all ``Tensor`` storage.
    public static let shared = TensorAllocator()

    /// The alignment of every block, in bytes (a cache line; enough for AVX-512 loads).
    public static let alignment = 64

    /// The smallest block size, in bytes, that is rounded to a size class and cached when freed.
    public static let cachedBlockThreshold = 1 << 16

    private let lock = NSLock()
    private var freeLists: [Int: [UnsafeMutableRawPointer]] = [:]
    private var limit: Int
    private var current = TensorMemoryStatistics()

    /// Creates an allocator whose cache holds at most `cacheLimit` bytes of freed blocks.
    ///
    /// - Parameter cacheLimit: bytes; the default is a quarter of the physical memory.
    public init(cacheLimit: Int = TensorAllocator.defaultCacheLimit) {
        limit = max(0, cacheLimit)
        current.cacheLimit = limit
    }

    /// A quarter of the machine's physical memory.
    public static var defaultCacheLimit: Int { Int(clamping: ProcessInfo.processInfo.physicalMemory / 4) }

    /// The most bytes of freed blocks kept for reuse; lowering it releases cached blocks beyond it.
    public var cacheLimit: Int {
        get { lock.withLock { limit } }
        set {
            let released: [UnsafeMutableRawPointer] = lock.withLock {
                limit = max(0, newValue)
                current.cacheLimit = limit
                return evict(downTo: limit)
            }
            released.forEach { free($0) }
        }
    }

    /// A snapshot of the counters.
    public var statistics: TensorMemoryStatistics { lock.withLock { current } }

    /// Returns every cached block to the system.
    public func releaseCachedMemory() {
        lock.withLock { evict(downTo: 0) }.forEach { free($0) }
    }

    /// Restarts ``TensorMemoryStatistics/peakBytesInUse`` from the bytes in use now.
    public func resetPeak() {
        lock.withLock { current.peakBytesInUse = current.bytesInUse }
    }

    /// The bytes actually reserved for a request of `byteCount` bytes (its size class when cached).
    public static func reservedSize(forRequest byteCount: Int) -> Int {
        let bytes = max(byteCount, alignment)
        guard bytes >= cachedBlockThreshold else { return (bytes + alignment - 1) & ~(alignment - 1) }
        let step = 1 << (Int.bitWidth - bytes.leadingZeroBitCount - 1 - 3)
        return (bytes + step - 1) & ~(step - 1)
    }

    /// A 64-byte aligned, uninitialised block of at least `byteCount` bytes, and the bytes it
    /// reserves (pass both back to ``deallocate(_:reservedBytes:)``).
    ///
    /// ``Tensor`` storage calls this once per tensor; call it for other large, short-lived buffers
    /// (workspaces) that should share the cache. Traps only when the system has no memory left even
    /// after the cache was released.
    public func allocate(byteCount: Int) -> (block: UnsafeMutableRawPointer, reservedBytes: Int) {
        let size = Self.reservedSize(forRequest: byteCount)
        let cached: (UnsafeMutableRawPointer, Int)? = lock.withLock {
            let taken = size >= Self.cachedBlockThreshold ? takeCached(size) : nil
            current.bytesInUse += taken?.1 ?? size
            current.peakBytesInUse = max(current.peakBytesInUse, current.bytesInUse)
            if taken != nil { current.reusedBlocks += 1 } else { current.systemAllocations += 1 }
            return taken
        }
        if let cached { return cached }
        if let fresh = Self.systemAllocate(size) { return (fresh, size) }
        releaseCachedMemory()
        guard let retried = Self.systemAllocate(size) else {
            preconditionFailure("TensorAllocator: the system refused \(size) bytes for a tensor (out of memory)")
        }
        return (retried, size)
    }

    /// Returns a block from ``allocate(byteCount:)`` of this allocator with the reserved size it came
    /// with; the block must not be used afterwards.
    public func deallocate(_ block: UnsafeMutableRawPointer, reservedBytes size: Int) {
        let kept: Bool = lock.withLock {
            current.bytesInUse -= size
            guard size >= Self.cachedBlockThreshold, current.bytesCached + size <= limit else { return false }
            freeLists[size, default: []].append(block)
            current.bytesCached += size
            return true
        }
        if !kept { free(block) }
    }

    /// A cached block of class `size`, or of the smallest cached class up to twice it; under the lock.
    private func takeCached(_ size: Int) -> (UnsafeMutableRawPointer, Int)? {
        let chosen: Int
        if !(freeLists[size]?.isEmpty ?? true) {
            chosen = size
        } else if let larger = freeLists.compactMap({ $0.key > size && $0.key <= 2 * size && !$0.value.isEmpty ? $0.key : nil }).min() {
            chosen = larger
        } else {
            return nil
        }
        guard let block = freeLists[chosen]?.popLast() else { return nil }
        current.bytesCached -= chosen
        return (block, chosen)
    }

    /// Cached blocks to free so that at most `bytes` stay cached; under the lock.
    private func evict(downTo bytes: Int) -> [UnsafeMutableRawPointer] {
        var released: [UnsafeMutableRawPointer] = []
        for size in freeLists.keys.sorted(by: >) where current.bytesCached > bytes {
            while current.bytesCached > bytes, let block = freeLists[size]?.popLast() {
                released.append(block)
                current.bytesCached -= size
            }
        }
        freeLists = freeLists.filter { !$0.value.isEmpty }
        return released
    }

    private static func systemAllocate(_ size: Int) -> UnsafeMutableRawPointer? {
        var block: UnsafeMutableRawPointer?
        return posix_memalign(&block, alignment, size) == 0 ? block : nil
    }
}
