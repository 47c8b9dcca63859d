import BNN
import Dispatch
import Foundation
import Testing

/// The caching allocator behind tensor storage, on private instances so that tests running in
/// parallel do not disturb the counters.
@Suite struct TensorAllocatorTests {
    private let mebibyte = 1 << 20

    @Test func sizeClassesWasteAtMostAnEighthAndAreAligned() {
        #expect(TensorAllocator.reservedSize(forRequest: 0) == 64)
        #expect(TensorAllocator.reservedSize(forRequest: 100) == 128)
        #expect(TensorAllocator.reservedSize(forRequest: 1 << 16) == 1 << 16)
        #expect(TensorAllocator.reservedSize(forRequest: (1 << 16) + 1) == (1 << 16) + (1 << 13))
        for request in [65_537, 100_000, 1_000_003, 37_748_737] {
            let reserved = TensorAllocator.reservedSize(forRequest: request)
            #expect(reserved >= request && Double(reserved) <= Double(request) * 1.125)
            #expect(reserved % 64 == 0)
        }
        let allocator = TensorAllocator(cacheLimit: 0)
        for request in [1, 3, 64, 65, 4096, 70_000, 3 * mebibyte + 5] {
            let (block, reserved) = allocator.allocate(byteCount: request)
            #expect(Int(bitPattern: block) % TensorAllocator.alignment == 0)
            block.initializeMemory(as: UInt8.self, repeating: 0xA5, count: request)   // writable to the end
            allocator.deallocate(block, reservedBytes: reserved)
        }
        #expect(allocator.statistics.bytesInUse == 0)
    }

    @Test func freedLargeBlockIsReusedBySameOrSlightlySmallerRequest() {
        let allocator = TensorAllocator(cacheLimit: 64 * mebibyte)
        let first = allocator.allocate(byteCount: mebibyte)
        allocator.deallocate(first.block, reservedBytes: first.reservedBytes)
        #expect(allocator.statistics.bytesCached == mebibyte)
        let second = allocator.allocate(byteCount: mebibyte)
        #expect(second.block == first.block)
        allocator.deallocate(second.block, reservedBytes: second.reservedBytes)
        // Within twice the request: the cached 1 MiB block serves 600 KiB and keeps its class.
        let smaller = allocator.allocate(byteCount: 600 << 10)
        #expect(smaller.block == first.block && smaller.reservedBytes == mebibyte)
        allocator.deallocate(smaller.block, reservedBytes: smaller.reservedBytes)
        // More than twice smaller: a fresh block.
        let small = allocator.allocate(byteCount: 400 << 10)
        #expect(small.block != first.block)
        allocator.deallocate(small.block, reservedBytes: small.reservedBytes)
        let stats = allocator.statistics
        #expect(stats.reusedBlocks == 2 && stats.systemAllocations == 2)
        #expect(stats.bytesInUse == 0 && stats.peakBytesInUse == mebibyte)
        allocator.releaseCachedMemory()
    }

    @Test func smallBlocksAreNotCached() {
        let allocator = TensorAllocator(cacheLimit: 64 * mebibyte)
        let block = allocator.allocate(byteCount: 1000)
        allocator.deallocate(block.block, reservedBytes: block.reservedBytes)
        #expect(allocator.statistics.bytesCached == 0)
    }

    @Test func cacheStaysWithinItsLimitAndReleases() {
        let allocator = TensorAllocator(cacheLimit: 3 * mebibyte)
        let blocks = (0..<4).map { _ in allocator.allocate(byteCount: mebibyte) }
        #expect(allocator.statistics.bytesInUse == 4 * mebibyte)
        #expect(allocator.statistics.peakBytesInUse == 4 * mebibyte)
        for b in blocks { allocator.deallocate(b.block, reservedBytes: b.reservedBytes) }
        #expect(allocator.statistics.bytesCached == 3 * mebibyte)
        #expect(allocator.statistics.bytesInUse == 0)
        allocator.cacheLimit = mebibyte + 1
        #expect(allocator.statistics.bytesCached == mebibyte)
        #expect(allocator.statistics.cacheLimit == mebibyte + 1)
        allocator.resetPeak()
        #expect(allocator.statistics.peakBytesInUse == 0)
        allocator.releaseCachedMemory()
        #expect(allocator.statistics.bytesCached == 0)
        // After release, requests go to the system again.
        let fresh = allocator.allocate(byteCount: mebibyte)
        #expect(allocator.statistics.systemAllocations == 5)
        allocator.deallocate(fresh.block, reservedBytes: fresh.reservedBytes)
        allocator.releaseCachedMemory()
    }

    @Test func concurrentAllocationKeepsBlocksDisjointAndCountersExact() {
        let allocator = TensorAllocator(cacheLimit: 8 * mebibyte)
        let threads = 8, rounds = 300
        let failures = Counter()
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            var g = SeededGenerator(seed: UInt64(thread + 1))
            var held: [(UnsafeMutableRawPointer, Int, Int, UInt8)] = []
            for round in 0..<rounds {
                let size = Int.random(in: 1...(300 << 10), using: &g)
                let (block, reserved) = allocator.allocate(byteCount: size)
                let mark = UInt8(truncatingIfNeeded: thread &* 31 &+ round)
                block.initializeMemory(as: UInt8.self, repeating: mark, count: size)
                held.append((block, reserved, size, mark))
                if held.count > 4 || round == rounds - 1 {
                    for (b, r, s, m) in held {
                        let bytes = UnsafeBufferPointer(start: b.assumingMemoryBound(to: UInt8.self), count: s)
                        if !bytes.allSatisfy({ $0 == m }) { failures.increment() }   // another thread wrote here
                        allocator.deallocate(b, reservedBytes: r)
                    }
                    held.removeAll()
                }
            }
        }
        let stats = allocator.statistics
        #expect(failures.value == 0)
        #expect(stats.bytesInUse == 0)
        #expect(stats.reusedBlocks + stats.systemAllocations == threads * rounds)
        #expect(stats.reusedBlocks > 0)
        #expect(stats.bytesCached <= 8 * mebibyte)
        allocator.releaseCachedMemory()
    }

    @Test func tensorStorageIsAlignedCopyOnWriteAndCounted() {
        var a = Tensor(repeating: 1, shape: [300, 300])
        a.withUnsafeBufferPointer { #expect(Int(bitPattern: $0.baseAddress) % TensorAllocator.alignment == 0) }
        #expect(Tensor.memoryStatistics.bytesInUse >= 300 * 300 * 4)
        let b = a
        a.withUnsafeMutableBufferPointer { $0[7] = 5 }
        a[0, 1] = 3
        #expect(b.scalars.allSatisfy { $0 == 1 })
        #expect(a[0, 7] == 5 && a[0, 1] == 3 && a.sum() == 90_000 + 4 + 2)
        var c = b
        c.scalars = [Float](repeating: 2, count: 90_000)
        #expect(b[0, 0] == 1 && c[299, 299] == 2)
        #expect(Tensor(shape: [0, 4], scalars: []).count == 0)
    }
}

/// A thread-safe tally.
private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
