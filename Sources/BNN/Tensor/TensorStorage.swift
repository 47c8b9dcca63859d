/// The scalars of one or more ``Tensor`` values (shared copy-on-write), in a block from
/// ``TensorAllocator/shared`` that goes back to it when the last tensor lets go.
@usableFromInline
final class TensorStorage: @unchecked Sendable {
    /// The first scalar (valid even for zero scalars).
    @usableFromInline let base: UnsafeMutablePointer<Float>
    /// The number of scalars.
    @usableFromInline let count: Int
    private let reservedBytes: Int

    /// Storage for `count` scalars, uninitialised.
    @usableFromInline
    init(uninitializedCount count: Int) {
        let (block, reserved) = TensorAllocator.shared.allocate(byteCount: count * MemoryLayout<Float>.stride)
        base = block.bindMemory(to: Float.self, capacity: max(count, 1))
        self.count = count
        reservedBytes = reserved
    }

    /// A copy of `source`.
    convenience init(copying source: UnsafeBufferPointer<Float>) {
        self.init(uninitializedCount: source.count)
        if let start = source.baseAddress { base.update(from: start, count: source.count) }
    }

    /// A copy of this storage.
    @usableFromInline func copy() -> TensorStorage { TensorStorage(copying: buffer) }

    /// The scalars, read-only.
    @usableFromInline var buffer: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: base, count: count) }

    deinit { TensorAllocator.shared.deallocate(UnsafeMutableRawPointer(base), reservedBytes: reservedBytes) }
}
