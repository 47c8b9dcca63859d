import BNNKernels

/// Element-wise arithmetic, reductions and per-channel (last-axis) broadcasting.
///
/// Every operation runs as one loop over contiguous memory with no per-element allocation; binary
/// operations require equal shapes (broadcasting is explicit through the `channel` variants, which
/// broadcast a vector along the last axis, the channel axis of N×H×W×C data).
extension Tensor {
    // MARK: Element-wise

    @inline(__always)
    private static func zipMap(_ a: Tensor, _ b: Tensor, _ op: (Float, Float) -> Float) -> Tensor {
        precondition(a.shape == b.shape, "Tensor: shapes \(a.shape) and \(b.shape) differ")
        return Tensor(shape: a.shape) { out in
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    Parallel.forEachElementRange(out.count) { range in
                        for i in range { out[i] = op(pa[i], pb[i]) }
                    }
                }
            }
        }
    }

    /// Returns `transform` applied to every element.
    @inlinable
    public func map(_ transform: (Float) -> Float) -> Tensor {
        Tensor(shape: shape) { out in
            withUnsafeBufferPointer { p in
                Parallel.forEachElementRange(out.count) { range in
                    for i in range { out[i] = transform(p[i]) }
                }
            }
        }
    }

    /// Element-wise sum of two tensors of equal shape.
    public static func + (a: Tensor, b: Tensor) -> Tensor { zipMap(a, b, +) }
    /// Element-wise difference of two tensors of equal shape.
    public static func - (a: Tensor, b: Tensor) -> Tensor { zipMap(a, b, -) }
    /// Element-wise product of two tensors of equal shape.
    public static func * (a: Tensor, b: Tensor) -> Tensor { zipMap(a, b, *) }
    /// Every element multiplied by `s`.
    public static func * (a: Tensor, s: Float) -> Tensor { a.map { $0 * s } }
    /// Every element multiplied by `s`.
    public static func * (s: Float, a: Tensor) -> Tensor { a.map { $0 * s } }

    /// Adds `other` (same shape) into `self` in place.
    public static func += (a: inout Tensor, b: Tensor) { a.add(b, scaledBy: 1) }

    /// `self += scale * other` in place (an axpy); `other` must have the same shape.
    public mutating func add(_ other: Tensor, scaledBy scale: Float) {
        precondition(shape == other.shape, "Tensor: shapes \(shape) and \(other.shape) differ")
        other.withUnsafeBufferPointer { pb in
            withUnsafeMutableBufferPointer { pa in
                let a = pa
                Parallel.forEachElementRange(a.count) { range in
                    for i in range { a[i] += scale * pb[i] }
                }
            }
        }
    }

    /// Multiplies every element by `scale` in place.
    public mutating func scale(by scale: Float) {
        withUnsafeMutableBufferPointer { p in
            let a = p
            Parallel.forEachElementRange(a.count) { range in
                for i in range { a[i] *= scale }
            }
        }
    }

    /// Sets every element to zero, keeping the shape.
    public mutating func zero() {
        withUnsafeMutableBufferPointer { p in p.update(repeating: 0) }
    }

    // MARK: Reductions

    /// The sum of all elements, accumulated in `Double`.
    public func sum() -> Float {
        withUnsafeBufferPointer { p in
            var total = 0.0
            for v in p { total += Double(v) }
            return Float(total)
        }
    }

    /// The arithmetic mean of all elements (0 for an empty tensor).
    public func mean() -> Float { count == 0 ? 0 : Float(Double(sum()) / Double(count)) }

    /// The sum of squares of all elements, accumulated in `Double`.
    public func squaredNorm() -> Double {
        withUnsafeBufferPointer { p in
            var total = 0.0
            for v in p { total += Double(v) * Double(v) }
            return total
        }
    }

    /// The largest absolute value (0 for an empty tensor).
    public func maxAbs() -> Float {
        withUnsafeBufferPointer { p in p.reduce(0) { Swift.max($0, Swift.abs($1)) } }
    }

    /// Whether every element is finite (no infinity, no NaN).
    public var isFinite: Bool {
        withUnsafeBufferPointer { p in p.allSatisfy { $0.isFinite } }
    }

    // MARK: Channel (last-axis) broadcasting

    /// The number of channels: the extent of the last axis.
    public var channelCount: Int { shape.last ?? 1 }

    /// Sums over every axis but the last: a vector of `channelCount` elements (Double accumulation, in
    /// fixed blocks of rows on the worker threads, so the same for every thread count).
    public func sumPerChannel() -> [Float] {
        let c = channelCount
        guard c > 0 else { return [] }
        let totals = withUnsafeBufferPointer { p in
            Parallel.rowBlockSums(rows: p.count / c, sumsPerRow: c, rowsPerBlock: Parallel.channelSumRowsPerBlock(channels: c)) {
                rows, sums in
                bnn_channel_sum(p.baseAddress! + rows.lowerBound * c, rows.count, c, sums)
            }
        }
        return totals.map { Float($0) }
    }

    /// `self[..., j] * scale[j] + shift[j]` for every channel `j`.
    public func channelAffine(scale: [Float], shift: [Float]) -> Tensor {
        let c = channelCount
        precondition(scale.count == c && shift.count == c, "Tensor: channel vectors must have \(c) elements")
        return Tensor(shape: shape) { out in
            withUnsafeBufferPointer { p in
                scale.withUnsafeBufferPointer { s in
                    shift.withUnsafeBufferPointer { b in
                        Parallel.forEachRowRange(out.count / Swift.max(c, 1), rowLength: c) { rows in
                            let offset = rows.lowerBound * c
                            bnn_channel_affine(p.baseAddress! + offset, rows.count, c, s.baseAddress!, b.baseAddress!,
                                               out.baseAddress! + offset)
                        }
                    }
                }
            }
        }
    }
}

extension Tensor {
    /// Adds `vector[j]` to every element of channel `j` (the last axis) in place.
    public mutating func addChannelVector(_ vector: [Float]) {
        let c = channelCount
        precondition(vector.count == c, "Tensor: channel vector must have \(c) elements")
        vector.withUnsafeBufferPointer { v in
            withUnsafeMutableBufferPointer { p in
                let a = p
                Parallel.forEachRowRange(a.count / Swift.max(c, 1), rowLength: c) { rows in
                    let row = a.baseAddress! + rows.lowerBound * c
                    bnn_channel_add(row, rows.count, c, v.baseAddress!, row)
                }
            }
        }
    }

    /// `self[..., j] + vector[j]` for every channel `j`, in one pass (no copy of `self` first).
    public func addingChannelVector(_ vector: [Float]) -> Tensor {
        let c = channelCount
        precondition(vector.count == c, "Tensor: channel vector must have \(c) elements")
        return Tensor(shape: shape) { out in
            withUnsafeBufferPointer { p in
                vector.withUnsafeBufferPointer { v in
                    Parallel.forEachRowRange(p.count / Swift.max(c, 1), rowLength: c) { rows in
                        let offset = rows.lowerBound * c
                        bnn_channel_add(p.baseAddress! + offset, rows.count, c, v.baseAddress!, out.baseAddress! + offset)
                    }
                }
            }
        }
    }
}
