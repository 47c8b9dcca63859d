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

    /// Applies the chain in place to `pixels` pixels of `channels` values each, 16 channels at a time
    /// in SIMD registers (the package has no compiler flags, so the auto-vectoriser would target
    /// baseline SSE and keep PReLU's select as a branch).
    func apply(_ row: UnsafeMutablePointer<Float>, pixels: Int, channels c: Int) {
        for operation in operations {
            switch operation {
            case let .scaleShift(scale, shift):
                let (s, t) = (scale.base, shift.base)
                Self.forEachVector(row, pixels: pixels, channels: c) { v, ch in v * Self.load(s, ch) + Self.load(t, ch) }
                    scalar: { v, ch in s[ch] * v + t[ch] }
            case let .addBias(bias):
                let b = bias.base
                Self.forEachVector(row, pixels: pixels, channels: c) { v, ch in v + Self.load(b, ch) } scalar: { v, ch in v + b[ch] }
            case .sign:
                let (one, zero) = (SIMD16<Float>(repeating: 1), SIMD16<Float>(repeating: 0))
                Self.forEachVector(row, pixels: pixels, channels: c) { v, _ in
                    zero.replacing(with: one, where: v .> 0).replacing(with: -one, where: v .< 0)
                } scalar: { v, _ in v > 0 ? 1 : (v < 0 ? -1 : (v.isNaN ? v : 0)) }
            case .relu:
                let zero = SIMD16<Float>(repeating: 0)
                Self.forEachVector(row, pixels: pixels, channels: c) { v, _ in v.replacing(with: zero, where: v .< 0) }
                    scalar: { v, _ in v < 0 ? 0 : v }
            case let .prelu(slopes):
                let a = slopes.base
                Self.forEachVector(row, pixels: pixels, channels: c) { v, ch in v.replacing(with: v * Self.load(a, ch), where: v .<= 0) }
                    scalar: { v, ch in v > 0 ? v : a[ch] * v }
            case let .clamp(lo, hi):
                let (low, high) = (SIMD16<Float>(repeating: lo), SIMD16<Float>(repeating: hi))
                Self.forEachVector(row, pixels: pixels, channels: c) { v, _ in
                    v.replacing(with: low, where: v .< low).replacing(with: high, where: v .> high)
                } scalar: { v, _ in Swift.min(Swift.max(v, lo), hi) }
            }
        }
    }

    @inline(__always)
    private static func load(_ p: UnsafePointer<Float>, _ offset: Int) -> SIMD16<Float> {
        UnsafeRawPointer(p + offset).loadUnaligned(as: SIMD16<Float>.self)
    }

    /// `v = vector(v, channel)` on each block of 16 channels of every pixel, `scalar` on the rest.
    @inline(__always)
    private static func forEachVector(_ row: UnsafeMutablePointer<Float>, pixels: Int, channels c: Int,
                                      _ vector: (SIMD16<Float>, Int) -> SIMD16<Float>, scalar: (Float, Int) -> Float) {
        let blocks = c / 16 * 16
        for p in 0..<pixels {
            let v = row + p * c
            var ch = 0
            while ch < blocks {
                let raw = UnsafeMutableRawPointer(v + ch)
                raw.storeBytes(of: vector(raw.loadUnaligned(as: SIMD16<Float>.self), ch), as: SIMD16<Float>.self)
                ch += 16
            }
            while ch < c {
                v[ch] = scalar(v[ch], ch)
                ch += 1
            }
        }
    }
}
