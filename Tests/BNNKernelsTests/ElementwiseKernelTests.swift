import BNN
import BNNKernels
import Testing

/// The C element-wise passes of a training step against the plain Swift formulas they replace, bit
/// for bit, on ragged lengths (around the vector widths, the 8 lanes and the 64-bit mask words).
@Suite("Element-wise kernels")
struct ElementwiseKernelTests {
    static let lengths = [0, 1, 7, 8, 9, 63, 64, 65, 131, 1000]
    static let channelCounts = [1, 3, 16, 17, 64, 70]

    /// Values of both signs and varied magnitudes, with ±0, ±1, ±∞ and NaN mixed in when `specials`.
    static func values(_ count: Int, seed: UInt64, specials: Bool = false) -> [Float] {
        var g = SeededGenerator(seed: seed)
        let special: [Float] = [0, -0.0, 1, -1, .infinity, -.infinity, .nan]
        return (0..<count).map { i in
            specials && i % 11 == 5 ? special[(i / 11) % special.count] : g.nextNormal() * 1.5
        }
    }

    static func bits(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }

    /// The variants of the clamp-and-mask kernels this CPU can run: the dispatched one, the portable
    /// one and, where present, the AVX-512 one.
    struct ClampVariant: Sendable, CustomStringConvertible {
        var description: String
        var clamp: @Sendable (UnsafePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<UInt64>, Int,
                              Float, Float) -> Void
        var addClamp: @Sendable (UnsafeMutablePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<UInt64>, Int,
                                 Float, Float) -> Void
        var select: @Sendable (UnsafePointer<Float>, UnsafePointer<UInt64>, UnsafeMutablePointer<Float>, Int) -> Void
    }

    static var clampVariants: [ClampVariant] {
        var variants = [
            ClampVariant(description: "dispatched", clamp: { bnn_clamp_masked($0, $1, $2, $3, $4, $5) },
                         addClamp: { bnn_add_clamp_masked($0, $1, $2, $3, $4, $5) },
                         select: { bnn_mask_select($0, $1, $2, $3) }),
            ClampVariant(description: "reference", clamp: { bnn_clamp_masked_reference($0, $1, $2, $3, $4, $5) },
                         addClamp: { bnn_add_clamp_masked_reference($0, $1, $2, $3, $4, $5) },
                         select: { bnn_mask_select_reference($0, $1, $2, $3) }),
        ]
        #if arch(x86_64)
        if bnn_binary_avx512_detected() != 0 {
            variants.append(ClampVariant(description: "avx512", clamp: { bnn_clamp_masked_avx512($0, $1, $2, $3, $4, $5) },
                                         addClamp: { bnn_add_clamp_masked_avx512($0, $1, $2, $3, $4, $5) },
                                         select: { bnn_mask_select_avx512($0, $1, $2, $3) }))
        }
        #endif
        return variants
    }

    @Test("clamp and mask, add-clamp-mask in place, mask select: every variant against the formulas",
          arguments: clampVariants, [0, 1, 15, 16, 17, 63, 64, 65, 131, 1000])
    func clampMasks(variant: ClampVariant, count: Int) {
        let a = Self.values(count, seed: 1, specials: true), b = Self.values(count, seed: 2, specials: true)
        for (lo, hi): (Float, Float) in [(-1, 1), (0, .infinity)] {
            let sums = zip(a, b).map { $0 + $1 }
            func clamped(_ v: Float) -> Float {
                let low = v < lo ? lo : v
                return low > hi ? hi : low
            }
            func mask(_ values: [Float]) -> [UInt64] {
                var words = [UInt64](repeating: 0, count: (count + 63) / 64)
                for (i, v) in values.enumerated() where v > lo && v < hi { words[i / 64] |= 1 << UInt64(i % 64) }
                return words
            }
            var y = [Float](repeating: 7, count: count), sum = a
            var clampMask = [UInt64](repeating: .max, count: (count + 63) / 64), sumMask = clampMask
            var selected = [Float](repeating: 7, count: count)
            if count > 0 {
                variant.clamp(a, &y, &clampMask, count, lo, hi)
                variant.addClamp(&sum, b, &sumMask, count, lo, hi)
                variant.select(b, clampMask, &selected, count)
            }
            #expect(Self.bits(y) == Self.bits(a.map(clamped)))
            #expect(clampMask == mask(a))
            #expect(Self.bits(sum) == Self.bits(sums.map(clamped)))
            #expect(sumMask == mask(sums))
            let expectedSelected = (0..<count).map { i -> Float in a[i] > lo && a[i] < hi ? b[i] : 0 }
            #expect(Self.bits(selected) == Self.bits(expectedSelected))
        }
    }

    @Test("sums and sums of squares in eight lanes, in pieces as in one call", arguments: lengths)
    func laneSumSquares(count: Int) {
        let x = Self.values(count, seed: 3)
        var expected = [Double](repeating: 0, count: 16)
        for (i, v) in x.enumerated() {
            expected[i % 8] += Double(v)
            expected[8 + i % 8] += Double(v) * Double(v)
        }
        var whole = [Double](repeating: 0, count: 16), pieces = whole
        x.withUnsafeBufferPointer { p in
            if count > 0 { bnn_lane_sum_squares(p.baseAddress!, count, &whole) }
            for start in stride(from: 0, to: count, by: 16) {
                bnn_lane_sum_squares(p.baseAddress! + start, min(16, count - start), &pieces)
            }
        }
        #expect(whole == expected)
        #expect(pieces == expected)
    }

    @Test("dot products and sums in eight lanes, in pieces as in one call", arguments: lengths)
    func laneDotSum(count: Int) {
        let a = Self.values(count, seed: 4), b = Self.values(count, seed: 5)
        var expected = [Double](repeating: 0, count: 16)
        for i in 0..<count {
            expected[i % 8] += Double(a[i]) * Double(b[i])
            expected[8 + i % 8] += Double(b[i])
        }
        var whole = [Double](repeating: 0, count: 16), pieces = whole
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                if count > 0 { bnn_lane_dot_sum(pa.baseAddress!, pb.baseAddress!, count, &whole) }
                for start in stride(from: 0, to: count, by: 24) {
                    bnn_lane_dot_sum(pa.baseAddress! + start, pb.baseAddress! + start, min(24, count - start), &pieces)
                }
            }
        }
        #expect(whole == expected)
        #expect(pieces == expected)
    }

    @Test("per-channel sums, sums of squares and dot products, row by row", arguments: channelCounts)
    func channelSums(channels c: Int) {
        for rows in [1, 5, 33] {
            let x = Self.values(rows * c, seed: 6), h = Self.values(rows * c, seed: 7)
            var squares = [Double](repeating: 0.5, count: 2 * c), dots = squares
            var expectedSquares = squares, expectedDots = dots
            for r in 0..<rows {
                for j in 0..<c {
                    let v = Double(x[r * c + j])
                    expectedSquares[j] += v
                    expectedSquares[c + j] += v * v
                    expectedDots[j] += v
                    expectedDots[c + j] += v * Double(h[r * c + j])
                }
            }
            bnn_channel_sum_squares(x, rows, c, &squares)
            bnn_channel_sum_dot(x, h, rows, c, &dots)
            #expect(squares == expectedSquares)
            #expect(dots == expectedDots)
        }
    }

    @Test("BatchNorm's output and x̂, its input gradient and a channel affine map", arguments: channelCounts)
    func batchNormPasses(channels c: Int) {
        let rows = 9
        let x = Self.values(rows * c, seed: 8, specials: true), dy = Self.values(rows * c, seed: 9, specials: true)
        let k = Self.values(4 * c, seed: 10)
        var xhat = [Float](repeating: 0, count: rows * c), y = xhat, yOnly = xhat, dx = xhat, affine = xhat
        bnn_batchnorm_normalize(x, rows, c, k, &xhat, &y)
        bnn_batchnorm_normalize(x, rows, c, k, nil, &yOnly)
        bnn_batchnorm_input_gradient(dy, xhat, rows, c, k, &dx)
        bnn_channel_affine(x, rows, c, k, Array(k[c...]), &affine)
        var expectedXhat: [Float] = [], expectedY: [Float] = [], expectedDx: [Float] = [], expectedAffine: [Float] = []
        for i in 0..<rows * c {
            let j = i % c
            let h = x[i] * k[j] + k[c + j]
            expectedXhat.append(h)
            expectedY.append(h * k[2 * c + j] + k[3 * c + j])
            expectedDx.append(k[j] * (dy[i] - k[c + j] - h * k[2 * c + j]))
            expectedAffine.append(h)
        }
        #expect(Self.bits(xhat) == Self.bits(expectedXhat))
        #expect(Self.bits(y) == Self.bits(expectedY))
        #expect(Self.bits(yOnly) == Self.bits(expectedY))
        #expect(Self.bits(dx) == Self.bits(expectedDx))
        #expect(Self.bits(affine) == Self.bits(expectedAffine))
    }

    @Test("scaling and the variance normalisation's input gradient", arguments: lengths)
    func normalizedSignGradient(count: Int) {
        let x = Self.values(count, seed: 11, specials: true), g = Self.values(count, seed: 12, specials: true)
        let (r, meanU, k): (Float, Float, Float) = (0.37, -0.021, 0.0043)
        var u = [Float](repeating: 0, count: count), dx = u
        bnn_scale(x, r, &u, count)
        bnn_normalized_sign_gradient(g, u, count, r, meanU, k, &dx)
        #expect(Self.bits(u) == Self.bits(x.map { $0 * r }))
        #expect(Self.bits(dx) == Self.bits((0..<count).map { g[$0] * r - (u[$0] - meanU) * k }))
    }

    @Test("magnitudes summed in eight lanes", arguments: lengths)
    func laneAbsSum(count: Int) {
        let x = Self.values(count, seed: 13)
        var expected = [Double](repeating: 0, count: 8)
        for (i, v) in x.enumerated() { expected[i % 8] += Double(Swift.abs(v)) }
        var lanes = [Double](repeating: 0, count: 8)
        x.withUnsafeBufferPointer { p in if count > 0 { bnn_lane_abs_sum(p.baseAddress!, count, &lanes) } }
        #expect(lanes == expected)
    }

    /// The max-pool row kernels this CPU can run: dispatched, portable and, where present, AVX-512.
    struct MaxPoolVariant: Sendable, CustomStringConvertible {
        var description: String
        var run: @Sendable (UnsafePointer<Float>, Int, Int, Int, Int, Int, Int, Int, Int, UnsafeMutablePointer<Float>) -> Void
    }

    static var maxPoolVariants: [MaxPoolVariant] {
        var variants = [
            MaxPoolVariant(description: "dispatched") { bnn_max_pool_row($0, $1, $2, $3, $4, $5, $6, $7, $8, $9) },
            MaxPoolVariant(description: "reference") { bnn_max_pool_row_reference($0, $1, $2, $3, $4, $5, $6, $7, $8, $9) },
        ]
        #if arch(x86_64)
        if bnn_binary_avx512_detected() != 0 {
            variants.append(MaxPoolVariant(description: "avx512") {
                bnn_max_pool_row_avx512($0, $1, $2, $3, $4, $5, $6, $7, $8, $9)
            })
        }
        #endif
        return variants
    }

    @Test("max-pool rows: every variant against the window maximum (borders, strides, NaN, ragged channels)",
          arguments: maxPoolVariants, channelCounts)
    func maxPoolRows(variant: MaxPoolVariant, channels c: Int) {
        for (kernel, stride, padding) in [(3, 2, 1), (2, 2, 0), (3, 1, 1), (5, 3, 2)] {
            let (h, w) = (7, 9)
            let image = Self.values(h * w * c, seed: UInt64(c * 10 + kernel), specials: true)
            let (oh, ow) = ((h + 2 * padding - kernel) / stride + 1, (w + 2 * padding - kernel) / stride + 1)
            for oy in 0..<oh {
                var out = [Float](repeating: 7, count: ow * c)
                variant.run(image, h, w, c, kernel, stride, padding, oy, ow, &out)
                var expected = [Float](repeating: -.infinity, count: ow * c)
                for ox in 0..<ow {
                    for y in max(0, oy * stride - padding)..<min(h, oy * stride - padding + kernel) {
                        for x in max(0, ox * stride - padding)..<min(w, ox * stride - padding + kernel) {
                            for ch in 0..<c {
                                let v = image[(y * w + x) * c + ch], m = expected[ox * c + ch]
                                if v > m || v.isNaN { expected[ox * c + ch] = v }
                            }
                        }
                    }
                }
                #expect(Self.bits(out) == Self.bits(expected), "kernel \(kernel) stride \(stride) row \(oy)")
            }
        }
    }

    /// The (R)PReLU kernels this CPU can run: dispatched, portable and, where present, AVX-512.
    struct PReLUVariant: Sendable, CustomStringConvertible {
        typealias Forward = @Sendable (UnsafePointer<Float>, Int, Int, UnsafePointer<Float>, UnsafePointer<Float>,
                                       UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void
        typealias Backward = @Sendable (UnsafePointer<Float>, UnsafePointer<Float>, Int, Int, UnsafePointer<Float>,
                                        UnsafePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Double>) -> Void
        typealias PlainForward = @Sendable (UnsafePointer<Float>, Int, Int, UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void
        typealias PlainBackward = @Sendable (UnsafePointer<Float>, UnsafePointer<Float>, Int, Int, UnsafePointer<Float>,
                                             UnsafeMutablePointer<Float>, UnsafeMutablePointer<Double>) -> Void
        var description: String
        var forward: Forward
        var backward: Backward
        var preluForward: PlainForward
        var preluBackward: PlainBackward
    }

    static var preluVariants: [PReLUVariant] {
        var variants = [
            PReLUVariant(description: "dispatched", forward: { bnn_rprelu_forward($0, $1, $2, $3, $4, $5, $6) },
                         backward: { bnn_rprelu_backward($0, $1, $2, $3, $4, $5, $6, $7) },
                         preluForward: { bnn_prelu_forward($0, $1, $2, $3, $4) },
                         preluBackward: { bnn_prelu_backward($0, $1, $2, $3, $4, $5, $6) }),
            PReLUVariant(description: "reference", forward: { bnn_rprelu_forward_reference($0, $1, $2, $3, $4, $5, $6) },
                         backward: { bnn_rprelu_backward_reference($0, $1, $2, $3, $4, $5, $6, $7) },
                         preluForward: { bnn_prelu_forward_reference($0, $1, $2, $3, $4) },
                         preluBackward: { bnn_prelu_backward_reference($0, $1, $2, $3, $4, $5, $6) }),
        ]
        #if arch(x86_64)
        if bnn_binary_avx512_detected() != 0 {
            variants.append(PReLUVariant(description: "avx512", forward: { bnn_rprelu_forward_avx512($0, $1, $2, $3, $4, $5, $6) },
                                         backward: { bnn_rprelu_backward_avx512($0, $1, $2, $3, $4, $5, $6, $7) },
                                         preluForward: { bnn_prelu_forward_avx512($0, $1, $2, $3, $4) },
                                         preluBackward: { bnn_prelu_backward_avx512($0, $1, $2, $3, $4, $5, $6) }))
        }
        #endif
        return variants
    }

    @Test("PReLU and RPReLU forward and backward: every variant against the formulas, sums in Double row by row",
          arguments: preluVariants, channelCounts)
    func preluPasses(variant: PReLUVariant, channels c: Int) {
        let rows = 37
        let x = Self.values(rows * c, seed: UInt64(c), specials: true), dy = Self.values(rows * c, seed: UInt64(c + 1))
        let before = Self.values(c, seed: 3), slopes = Self.values(c, seed: 4), after = Self.values(c, seed: 5)
        var y = [Float](repeating: 7, count: rows * c), dx = y, plainY = y, plainDx = y
        var sums = [Double](repeating: 0.5, count: 3 * c), plainSums = [Double](repeating: 0.5, count: c)
        variant.forward(x, rows, c, before, slopes, after, &y)
        variant.backward(x, dy, rows, c, before, slopes, &dx, &sums)
        variant.preluForward(x, rows, c, slopes, &plainY)
        variant.preluBackward(x, dy, rows, c, slopes, &plainDx, &plainSums)
        var expectedSums = [Double](repeating: 0.5, count: 3 * c), expectedPlainSums = [Double](repeating: 0.5, count: c)
        var expectedY: [Float] = [], expectedDx: [Float] = [], expectedPlainY: [Float] = [], expectedPlainDx: [Float] = []
        for r in 0..<rows {
            for j in 0..<c {
                let v = x[r * c + j], g = dy[r * c + j], t = v + before[j]
                let p: Float = t > 0 ? t : slopes[j] * t
                expectedY.append(p + after[j])
                let d: Float = t > 0 ? g : slopes[j] * g
                expectedDx.append(d)
                expectedSums[j] += Double(g)
                expectedSums[c + j] += t > 0 ? 0 : Double(g) * Double(t)
                expectedSums[2 * c + j] += Double(d)
                expectedPlainY.append(v > 0 ? v : slopes[j] * v)
                expectedPlainDx.append(v > 0 ? g : slopes[j] * g)
                expectedPlainSums[j] += v > 0 ? 0 : Double(g) * Double(v)
            }
        }
        #expect(Self.bits(y) == Self.bits(expectedY))
        #expect(Self.bits(dx) == Self.bits(expectedDx))
        #expect(sums.map(\.bitPattern) == expectedSums.map(\.bitPattern))
        #expect(Self.bits(plainY) == Self.bits(expectedPlainY))
        #expect(Self.bits(plainDx) == Self.bits(expectedPlainDx))
        #expect(plainSums.map(\.bitPattern) == expectedPlainSums.map(\.bitPattern))
    }
}
