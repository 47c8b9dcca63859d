/// Overflow-checked element and byte counts of shapes read from files: the one size check every
/// parser (safetensors, `.npy`, packed models) uses before it allocates or indexes, so a hostile
/// header gives an error instead of a trap or a huge allocation.
public enum CheckedSize {
    /// The product of `shape`'s extents, or `nil` when an extent is negative or the product
    /// overflows `Int`. The empty shape (a scalar) has 1 element.
    public static func elementCount(_ shape: [Int]) -> Int? {
        byteCount(shape, bytesPerElement: 1)
    }

    /// The bytes of a `shape` array of `bytesPerElement`-byte elements, or `nil` when an extent is
    /// negative or the size overflows `Int`.
    public static func byteCount(_ shape: [Int], bytesPerElement: Int) -> Int? {
        guard bytesPerElement >= 0 else { return nil }
        var total = bytesPerElement
        for extent in shape {
            guard extent >= 0 else { return nil }
            let (product, overflow) = total.multipliedReportingOverflow(by: extent)
            guard !overflow else { return nil }
            total = product
        }
        return total
    }
}
