/// A dense, row-major tensor of `Float` values.
///
/// `Tensor` is a value type with copy-on-write storage: copying or ``reshaped(_:)`` shares the scalars
/// until one copy is mutated, so views and reshapes are O(1). The storage is a 64-byte aligned block
/// from ``TensorAllocator/shared``, which keeps freed large blocks for reuse. Images are stored
/// channels-last (N×H×W×C) so binary kernels can pack bits along channels; see ``Tensor/fromNCHW(_:)``
/// and ``Tensor/toNCHW()`` for interchange with PyTorch-style N×C×H×W data.
public struct Tensor: Equatable, Sendable {
    /// The extent of each dimension, outermost first.
    public private(set) var shape: [Int]
    @usableFromInline var storage: TensorStorage

    /// The elements in row-major order; `scalars.count == shape.reduce(1, *)`.
    ///
    /// Reading copies the scalars into an array and writing copies them back (O(count) each): in
    /// loops, use ``withUnsafeBufferPointer(_:)``, ``withUnsafeMutableBufferPointer(_:)`` or
    /// ``subscript(_:)`` instead.
    public var scalars: [Float] {
        get { Array(storage.buffer) }
        set {
            precondition(newValue.count == storage.count, "Tensor: scalar count changed")
            if isKnownUniquelyReferenced(&storage) {
                newValue.withUnsafeBufferPointer { storage.base.update(from: $0.baseAddress!, count: $0.count) }
            } else {
                storage = newValue.withUnsafeBufferPointer { TensorStorage(copying: $0) }
            }
        }
    }

    /// Creates a tensor from a shape and its row-major scalars.
    ///
    /// - Precondition: `scalars.count` equals the product of `shape`.
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in \(shape)")
        precondition(scalars.count == Tensor.elementCount(shape),
                     "Tensor: \(scalars.count) scalars do not fill shape \(shape)")
        self.shape = shape
        storage = scalars.withUnsafeBufferPointer { TensorStorage(copying: $0) }
    }

    /// Creates a tensor of the given shape with every element equal to `value`.
    public init(repeating value: Float, shape: [Int]) {
        self.init(shape: shape) { $0.initialize(repeating: value) }
    }

    /// Creates a tensor of zeros.
    public init(zeros shape: [Int]) {
        self.init(repeating: 0, shape: shape)
    }

    /// Creates a tensor of the given shape whose scalars are written by `initializer` into
    /// uninitialized storage; the closure must write every element.
    @inlinable
    public init(shape: [Int], unsafeUninitialized initializer: (UnsafeMutableBufferPointer<Float>) -> Void) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in \(shape)")
        let storage = TensorStorage(uninitializedCount: Tensor.elementCount(shape))
        initializer(UnsafeMutableBufferPointer(start: storage.base, count: storage.count))
        self.init(shape: shape, storage: storage)
    }

    /// A tensor over existing storage of the right count.
    @usableFromInline
    init(shape: [Int], storage: TensorStorage) {
        self.shape = shape
        self.storage = storage
    }

    /// Whether the shapes are equal and the scalars compare equal one by one (so a NaN makes two
    /// tensors unequal unless they share storage, as with arrays).
    public static func == (lhs: Tensor, rhs: Tensor) -> Bool {
        guard lhs.shape == rhs.shape else { return false }
        if lhs.storage === rhs.storage { return true }
        return lhs.storage.buffer.elementsEqual(rhs.storage.buffer)
    }

    /// The number of elements.
    @inlinable public var count: Int { storage.count }
    /// The number of dimensions.
    @inlinable public var rank: Int { shape.count }

    /// The product of the dimensions of `shape`.
    @inlinable
    public static func elementCount(_ shape: [Int]) -> Int { shape.reduce(1, *) }

    /// The same scalars under a new shape with the same element count; O(1), storage is shared.
    ///
    /// One dimension may be `-1` and is then inferred.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var resolved = newShape
        if let hole = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != hole }.map(\.element).reduce(1, *)
            precondition(known > 0 && count % known == 0, "Tensor: cannot reshape \(shape) to \(newShape)")
            resolved[hole] = count / known
        }
        precondition(Tensor.elementCount(resolved) == count, "Tensor: cannot reshape \(shape) to \(newShape)")
        var result = self
        result.shape = resolved
        return result
    }

    /// Reads or writes the element at a multi-dimensional index (bounds-checked; not for hot loops).
    public subscript(_ index: Int...) -> Float {
        get { storage.base[flatIndex(index)] }
        set {
            let flat = flatIndex(index)
            withUnsafeMutableBufferPointer { $0[flat] = newValue }
        }
    }

    private func flatIndex(_ index: [Int]) -> Int {
        precondition(index.count == rank, "Tensor: index \(index) for shape \(shape)")
        var flat = 0
        for (i, extent) in zip(index, shape) {
            precondition(i >= 0 && i < extent, "Tensor: index \(index) out of bounds for shape \(shape)")
            flat = flat * extent + i
        }
        return flat
    }

    /// Calls `body` with a pointer to the contiguous scalars.
    @inlinable
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(storage.buffer)
    }

    /// Calls `body` with a mutable pointer to the contiguous scalars (copying shared storage first).
    @inlinable
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (inout UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        var buffer = UnsafeMutableBufferPointer(start: storage.base, count: storage.count)
        let start = buffer.baseAddress
        defer { precondition(buffer.baseAddress == start && buffer.count == storage.count,
                             "Tensor: withUnsafeMutableBufferPointer's body replaced the buffer") }
        return try body(&buffer)
    }
}

extension Tensor: CustomStringConvertible {
    /// A short description: the shape and the first few scalars.
    public var description: String {
        let head = storage.buffer.prefix(8).map { String(format: "%.4g", Double($0)) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(head)\(count > 8 ? ", …" : "")])"
    }
}

import Foundation
