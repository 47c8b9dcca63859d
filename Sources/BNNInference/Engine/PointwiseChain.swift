import BNN

/// Per-channel element-wise steps (`scaleShift`, `addBias`, `sign`, `relu`, `prelu`, `clamp`)
/// merged into one pass: the engine applies them, in order, to one row of pixels at a time while the
/// row is in cache.
struct PointwiseChain {
    /// One step of the chain, its per-channel values in aligned memory.
    enum Operation {
        case scaleShift(scale: AlignedBuffer<Float>, shift: AlignedBuffer<Float>)
        case addBias(AlignedBuffer<Float>)
        case sign
        case relu
        case prelu(AlignedBuffer<Float>)
        case clamp(minimum: Float, maximum: Float)

        /// Whether the operation is non-decreasing in every channel, so that it commutes with a max-pool.
        var isMonotone: Bool {
            switch self {
            case let .scaleShift(scale, _): return (0..<scale.count).allSatisfy { scale.base[$0] >= 0 }
            case let .prelu(slopes): return (0..<slopes.count).allSatisfy { slopes.base[$0] >= 0 }
            case .addBias, .sign, .relu, .clamp: return true
            }
        }
    }

    private(set) var operations: [Operation] = []

    /// Whether the chain does nothing.
    var isEmpty: Bool { operations.isEmpty }

    /// Whether every operation commutes with a max-pool.
    var isMonotone: Bool { operations.allSatisfy(\.isMonotone) }

    /// The per-channel addend when the chain is a single bias, else nil.
    var singleBias: AlignedBuffer<Float>? {
        guard operations.count == 1, case let .addBias(bias) = operations[0] else { return nil }
        return bias
    }

    /// The chain operation of an element-wise export step, nil for any other step.
    static func operation(for step: ExportStep) -> Operation? {
        switch step {
        case let .scaleShift(scale, shift): return .scaleShift(scale: AlignedBuffer(scale), shift: AlignedBuffer(shift))
        case let .addBias(bias): return .addBias(AlignedBuffer(bias))
        case .sign: return .sign
        case .relu: return .relu
        case let .prelu(slopes): return .prelu(AlignedBuffer(slopes))
        case let .clamp(minimum, maximum): return .clamp(minimum: minimum, maximum: maximum)
        default: return nil
        }
    }

    /// Appends one operation.
    mutating func append(_ operation: Operation) { operations.append(operation) }

    /// Applies the chain in place to `pixels` pixels of `channels` values each.
    func apply(_ row: UnsafeMutablePointer<Float>, pixels: Int, channels c: Int) {
        for operation in operations {
            switch operation {
            case let .scaleShift(scale, shift):
                let (s, t) = (scale.base, shift.base)
                for p in 0..<pixels {
                    let v = row + p * c
                    for ch in 0..<c { v[ch] = s[ch] * v[ch] + t[ch] }
                }
            case let .addBias(bias):
                let b = bias.base
                for p in 0..<pixels {
                    let v = row + p * c
                    for ch in 0..<c { v[ch] += b[ch] }
                }
            case .sign:
                for i in 0..<pixels * c {
                    let x = row[i]
                    row[i] = x > 0 ? 1 : (x < 0 ? -1 : (x.isNaN ? x : 0))
                }
            case .relu:
                for i in 0..<pixels * c { row[i] = Swift.max(row[i], 0) }
            case let .prelu(slopes):
                let a = slopes.base
                for p in 0..<pixels {
                    let v = row + p * c
                    for ch in 0..<c { v[ch] = v[ch] > 0 ? v[ch] : a[ch] * v[ch] }
                }
            case let .clamp(lo, hi):
                for i in 0..<pixels * c { row[i] = Swift.min(Swift.max(row[i], lo), hi) }
            }
        }
    }
}
