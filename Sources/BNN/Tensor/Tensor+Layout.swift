/// Conversions between the channels-last layout used inside BNN and the channels-first layout of
/// PyTorch checkpoints and NumPy arrays.
extension Tensor {
    /// Permutes the axes: `result.shape[i] == shape[permutation[i]]`.
    ///
    /// Copies the scalars once; O(count).
    public func permuted(_ permutation: [Int]) -> Tensor {
        precondition(permutation.sorted() == Array(0..<rank), "Tensor: \(permutation) is not a permutation of \(rank) axes")
        let newShape = permutation.map { shape[$0] }
        var strides = [Int](repeating: 1, count: rank)
        for axis in stride(from: rank - 2, through: 0, by: -1) { strides[axis] = strides[axis + 1] * shape[axis + 1] }
        let sourceStrides = permutation.map { strides[$0] }
        return Tensor(shape: newShape) { out in
            guard out.count > 0 else { return }
            withUnsafeBufferPointer { src in
                // Walk the output in order with an odometer over the permuted source strides;
                // the innermost axis is a strided copy.
                var index = [Int](repeating: 0, count: newShape.count)
                let inner = newShape.last ?? 1
                let innerStride = sourceStrides.last ?? 1
                var offset = 0
                var position = 0
                while position < out.count {
                    var s = offset
                    for i in 0..<inner { out[position + i] = src[s]; s += innerStride }
                    position += inner
                    var axis = newShape.count - 2
                    while axis >= 0 {
                        index[axis] += 1
                        offset += sourceStrides[axis]
                        if index[axis] < newShape[axis] { break }
                        offset -= sourceStrides[axis] * newShape[axis]
                        index[axis] = 0
                        axis -= 1
                    }
                }
            }
        }
    }

    /// Converts an N×C×H×W tensor to N×H×W×C.
    public static func fromNCHW(_ tensor: Tensor) -> Tensor {
        precondition(tensor.rank == 4, "Tensor.fromNCHW: rank-4 tensor expected, got shape \(tensor.shape)")
        return tensor.permuted([0, 2, 3, 1])
    }

    /// Converts this N×H×W×C tensor to N×C×H×W.
    public func toNCHW() -> Tensor {
        precondition(rank == 4, "Tensor.toNCHW: rank-4 tensor expected, got shape \(shape)")
        return permuted([0, 3, 1, 2])
    }
}
