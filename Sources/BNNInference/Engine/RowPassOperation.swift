import BNN
import BNNKernels

/// One pass over the output rows: each row is read from its source (the input itself, a max- or
/// average-pool window of it, or the sum of two values), then the pointwise chain runs on it while
/// it is in cache, then its signs are packed when a binary layer reads the result.
///
/// Pooling first is exact for the chain the compiler moves behind a max-pool: every operation of it
/// is non-decreasing per channel, so it commutes with the maximum (and touches fewer values).
final class RowPassOperation: EngineOperation {
    /// Where a row comes from.
    enum Source {
        case copy(Int)
        case maxPool(Int, kernel: Int, stride: Int, padding: Int)
        case averagePool(Int, kernel: Int, stride: Int, padding: Int)
        case sum(Int, Int)
    }

    let name: String
    let source: Source
    let chain: PointwiseChain
    let output: Int
    /// The packed value written beside the floats, set by the compiler when a binary layer reads the output.
    var packedOutput: (index: Int, margin: Int)?
    /// The packed signs of the output plus a per-channel offset (a learnable shift before a sign),
    /// set by the compiler when a binary layer reads the shifted output.
    var thresholdedOutput: (index: Int, margin: Int, offset: AlignedBuffer<Float>)?
    /// Input extent (of the pooled value) and output extent and channels.
    let inputHeight: Int, inputWidth: Int, outputHeight: Int, outputWidth: Int, channels: Int

    init(name: String, source: Source, chain: PointwiseChain, output: Int, inputHeight: Int, inputWidth: Int,
         outputHeight: Int, outputWidth: Int, channels: Int) {
        (self.name, self.source, self.chain, self.output) = (name, source, chain, output)
        (self.inputHeight, self.inputWidth, self.outputHeight, self.outputWidth, self.channels)
            = (inputHeight, inputWidth, outputHeight, outputWidth, channels)
    }

    var kind: InferenceProfile.Kind {
        switch source {
        case .copy: return chain.isEmpty ? .packing : .pointwise
        case .maxPool, .averagePool: return .pooling
        case .sum: return .add
        }
    }

    var inputs: [Int] {
        switch source {
        case let .copy(v), let .maxPool(v, _, _, _), let .averagePool(v, _, _, _): return [v]
        case let .sum(a, b): return [a, b]
        }
    }

    var outputs: [Int] { [output] }

    var inPlaceInput: Int? {
        switch source {
        case let .copy(v), let .sum(v, _): return v
        case .maxPool, .averagePool: return nil
        }
    }

    func macs(batch: Int) -> Int { 0 }

    func run(_ frame: EngineFrame) -> Int {
        let (oh, ow, c) = (outputHeight, outputWidth, channels)
        let out = frame.values[output]
        let packed = packedOutput.map { (base: frame.packed[$0.index], margin: $0.margin) }
        let thresholded = thresholdedOutput.map { (base: frame.packed[$0.index], margin: $0.margin, offset: $0.offset.base) }
        let words = binaryWordCount(channels: c)
        let zeros = ParallelCounter()
        /// Packs one row into a buffer with a border of `margin`.
        func pack(_ values: UnsafePointer<Float>, into base: UnsafeMutablePointer<UInt64>, margin: Int, n: Int, oy: Int) -> Int {
            let (ph, pw) = (oh + 2 * margin, ow + 2 * margin)
            return Int(bnn_binary_pack_signs(values, Int64(ow), Int64(c), base + ((n * ph + oy + margin) * pw + margin) * words))
        }
        Parallel.forEachChunk(frame.batch * oh, minimumChunk: max(1, 16_384 / max(1, ow * c))) { rows in
            var count = 0
            let shifted = thresholded.map { _ in UnsafeMutablePointer<Float>.allocate(capacity: ow * c) }
            defer { shifted?.deallocate() }
            for row in rows {
                let n = row / oh, oy = row % oh
                let o = out + row * ow * c
                fill(o, frame: frame, n: n, oy: oy)
                chain.apply(o, pixels: ow, channels: c)
                if let packed { count += pack(o, into: packed.base, margin: packed.margin, n: n, oy: oy) }
                if let thresholded, let shifted {
                    for p in 0..<ow { Self.add(o + p * c, thresholded.offset, into: shifted + p * c, count: c) }
                    count += pack(shifted, into: thresholded.base, margin: thresholded.margin, n: n, oy: oy)
                }
            }
            zeros.add(count)
        }
        return zeros.value
    }

    /// `o[i] = a[i] + b[i]` for `count` values, 16 at a time in SIMD registers (`o` may be `a`).
    @inline(__always)
    private static func add(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into o: UnsafeMutablePointer<Float>,
                            count: Int) {
        let (x, y, z) = (UnsafeRawPointer(a), UnsafeRawPointer(b), UnsafeMutableRawPointer(o))
        var i = 0
        while i + 16 <= count {
            let sum = x.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self)
                + y.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self)
            z.storeBytes(of: sum, toByteOffset: 4 * i, as: SIMD16<Float>.self)
            i += 16
        }
        while i < count {
            o[i] = a[i] + b[i]
            i += 1
        }
    }

    /// The sum over the window `ys`×`xs` of an H×W×C image, per channel, times `scale`: 16 channels at a
    /// time summed in SIMD registers (from 0, in window order, as PyTorch's average pool adds) and
    /// written once.
    @inline(__always)
    private static func average(of image: UnsafePointer<Float>, ys: Range<Int>, xs: Range<Int>, width w: Int, channels c: Int,
                                scale: Float, into p: UnsafeMutablePointer<Float>) {
        let (source, target) = (UnsafeRawPointer(image), UnsafeMutableRawPointer(p))
        var ch = 0
        while ch + 16 <= c {
            var sum = SIMD16<Float>()
            for y in ys {
                for x in xs { sum += source.loadUnaligned(fromByteOffset: 4 * ((y * w + x) * c + ch), as: SIMD16<Float>.self) }
            }
            target.storeBytes(of: sum * scale, toByteOffset: 4 * ch, as: SIMD16<Float>.self)
            ch += 16
        }
        while ch < c {
            var sum: Float = 0
            for y in ys {
                for x in xs { sum += image[(y * w + x) * c + ch] }
            }
            p[ch] = sum * scale
            ch += 1
        }
    }

    /// Writes output row `oy` of image `n` from the source.
    @inline(__always)
    private func fill(_ o: UnsafeMutablePointer<Float>, frame: EngineFrame, n: Int, oy: Int) {
        let (h, w, ow, c) = (inputHeight, inputWidth, outputWidth, channels)
        switch source {
        case let .copy(v):
            let i = frame.values[v] + (n * outputHeight + oy) * ow * c
            if i != o { o.update(from: i, count: ow * c) }
        case let .sum(a, b):
            let offset = (n * outputHeight + oy) * ow * c
            Self.add(frame.values[a] + offset, frame.values[b] + offset, into: o, count: ow * c)
        case let .maxPool(v, k, stride, padding):
            bnn_max_pool_row(frame.values[v] + n * h * w * c, h, w, c, k, stride, padding, oy, ow, o)
        case let .averagePool(v, k, stride, padding):
            // PyTorch's windows: zero padding counts in the divisor, positions past it do not.
            let image = frame.values[v] + n * h * w * c
            let y0 = oy * stride - padding, y1 = min(y0 + k, h + padding)
            let ys = max(y0, 0)..<min(y1, h)
            for ox in 0..<ow {
                let x0 = ox * stride - padding, x1 = min(x0 + k, w + padding)
                let xs = max(x0, 0)..<min(x1, w)
                Self.average(of: image, ys: ys, xs: xs, width: w, channels: c,
                             scale: 1 / Float((y1 - y0) * (x1 - x0)), into: o + ox * c)
            }
        }
    }
}

/// Global average pooling, N×H×W×C → N×1×1×C.
final class GlobalAveragePoolOperation: EngineOperation {
    let name: String
    var kind: InferenceProfile.Kind { .pooling }
    let input: Int, output: Int
    let pixels: Int, channels: Int
    var inputs: [Int] { [input] }
    var outputs: [Int] { [output] }

    init(name: String, input: Int, output: Int, pixels: Int, channels: Int) {
        (self.name, self.input, self.output, self.pixels, self.channels) = (name, input, output, pixels, channels)
    }

    func macs(batch: Int) -> Int { 0 }

    func run(_ frame: EngineFrame) -> Int {
        let (x, out, c) = (frame.values[input], frame.values[output], channels)
        for n in 0..<frame.batch {
            let o = out + n * c
            o.update(repeating: 0, count: c)
            for pixel in 0..<pixels {
                let i = x + (n * pixels + pixel) * c
                for ch in 0..<c { o[ch] += i[ch] }
            }
            let scale = 1 / Float(pixels)
            for ch in 0..<c { o[ch] *= scale }
        }
        return 0
    }
}

/// The branches' outputs side by side along channels: N×H×W×(C₁+C₂+…).
final class ConcatenateOperation: EngineOperation {
    let name: String
    var kind: InferenceProfile.Kind { .concatenate }
    let parts: [(value: Int, channels: Int)]
    let output: Int
    let pixels: Int
    var inputs: [Int] { parts.map(\.value) }
    var outputs: [Int] { [output] }

    init(name: String, parts: [(value: Int, channels: Int)], output: Int, pixels: Int) {
        (self.name, self.parts, self.output, self.pixels) = (name, parts, output, pixels)
    }

    func macs(batch: Int) -> Int { 0 }

    func run(_ frame: EngineFrame) -> Int {
        let total = parts.reduce(0) { $0 + $1.channels }
        let out = frame.values[output]
        let sources = parts.map { (frame.values[$0.value], $0.channels) }
        Parallel.forEachChunk(frame.batch * pixels, minimumChunk: max(1, 16_384 / total)) { range in
            for pixel in range {
                var offset = 0
                for (source, c) in sources {
                    (out + pixel * total + offset).update(from: source + pixel * c, count: c)
                    offset += c
                }
            }
        }
        return 0
    }
}

/// Packs the signs of a value for a binary layer when no operation could write them as it produced
/// the value (the program input, a concatenation, a flattened value).
final class PackOperation: EngineOperation {
    let name: String
    var kind: InferenceProfile.Kind { .packing }
    let input: Int
    let packed: Int, margin: Int
    let height: Int, width: Int, channels: Int
    var inputs: [Int] { [input] }
    var outputs: [Int] { [] }

    init(name: String, input: Int, packed: Int, margin: Int, height: Int, width: Int, channels: Int) {
        (self.name, self.input, self.packed, self.margin) = (name, input, packed, margin)
        (self.height, self.width, self.channels) = (height, width, channels)
    }

    func macs(batch: Int) -> Int { 0 }

    func run(_ frame: EngineFrame) -> Int {
        let (h, w, c, m) = (height, width, channels, margin)
        let (x, out) = (frame.values[input], frame.packed[packed])
        let words = binaryWordCount(channels: c)
        let zeros = ParallelCounter()
        Parallel.forEachChunk(frame.batch * h, minimumChunk: max(1, 65_536 / max(1, w * c))) { rows in
            var count = 0
            for row in rows {
                let n = row / h, y = row % h
                count += Int(bnn_binary_pack_signs(x + row * w * c, Int64(w), Int64(c),
                                                   out + ((n * (h + 2 * m) + y + m) * (w + 2 * m) + m) * words))
            }
            zeros.add(count)
        }
        return zeros.value
    }
}
