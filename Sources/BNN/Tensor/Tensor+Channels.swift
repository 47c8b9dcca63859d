extension Tensor {
    /// Joins tensors along the last axis (channels): every other axis must agree.
    ///
    /// For N×H×W×Cᵢ parts the result is N×H×W×ΣCᵢ with the channels of `parts[0]` first.
    ///
    /// - Precondition: at least one part, and all parts have the same shape except the last axis.
    public init(concatenatingChannels parts: [Tensor]) {
        precondition(!parts.isEmpty, "Tensor: nothing to concatenate")
        let outer = Array(parts[0].shape.dropLast())
        precondition(parts.allSatisfy { Array($0.shape.dropLast()) == outer },
                     "Tensor: channel concatenation of shapes \(parts.map(\.shape))")
        let widths = parts.map(\.channelCount)
        let total = widths.reduce(0, +)
        let rows = Tensor.elementCount(outer)
        self.init(shape: outer + [total]) { out in
            var offset = 0
            for (part, width) in zip(parts, widths) {
                part.withUnsafeBufferPointer { p in
                    Parallel.forEachRowRange(rows, rowLength: width) { range in
                        for row in range {
                            (out.baseAddress! + row * total + offset).update(from: p.baseAddress! + row * width, count: width)
                        }
                    }
                }
                offset += width
            }
        }
    }

    /// The channels `range` of the last axis as a contiguous tensor (shape `…×range.count`).
    ///
    /// - Precondition: `range` lies within `0..<channelCount`.
    public func channelSlice(_ range: Range<Int>) -> Tensor {
        let c = channelCount
        precondition(range.lowerBound >= 0 && range.upperBound <= c, "Tensor: channels \(range) of \(shape)")
        let width = range.count
        let rows = count / Swift.max(c, 1)
        return Tensor(shape: Array(shape.dropLast()) + [width]) { out in
            withUnsafeBufferPointer { p in
                Parallel.forEachRowRange(rows, rowLength: width) { range2 in
                    for row in range2 {
                        (out.baseAddress! + row * width).update(from: p.baseAddress! + row * c + range.lowerBound, count: width)
                    }
                }
            }
        }
    }
}
