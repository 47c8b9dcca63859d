import BNN
import BNNKernels
import Testing

/// The bfloat16 GEMM: rounding to nearest even, and every available micro-kernel (the portable
/// reference and this CPU's bfloat16 instructions) against a double-precision product of the
/// rounded operands on odd sizes, strides and `accumulate`.
@Suite struct BFloat16GEMMTests {
    /// Kernels to compare: nil (automatic) and every variant this CPU runs.
    static var kernels: [BFloat16GEMM.Kernel?] {
        [nil] + BFloat16GEMM.Kernel.allCases.filter(\.isAvailable).map { $0 }
    }

    static func bits(_ value: Float) -> UInt16 { bnn_bf16_from_float(value) }

    @Test("rounding is to nearest, ties to even, and keeps infinities and NaNs")
    func rounding() {
        #expect(Self.bits(1) == 0x3F80)
        #expect(Self.bits(-2) == 0xC000)
        // 1 + 2⁻⁸ lies halfway between 1 and 1 + 2⁻⁷: ties go to the even 1.
        #expect(Self.bits(Float(bitPattern: 0x3F80_8000)) == 0x3F80)
        // 1 + 3·2⁻⁸ lies halfway between 1 + 2⁻⁷ (odd) and 1 + 2⁻⁶: ties go up to the even one.
        #expect(Self.bits(Float(bitPattern: 0x3F81_8000)) == 0x3F82)
        // Just above halfway rounds up, just below rounds down.
        #expect(Self.bits(Float(bitPattern: 0x3F80_8001)) == 0x3F81)
        #expect(Self.bits(Float(bitPattern: 0x3F80_7FFF)) == 0x3F80)
        #expect(Self.bits(.infinity) == 0x7F80)
        #expect(Self.bits(-.infinity) == 0xFF80)
        #expect(Self.bits(.greatestFiniteMagnitude) == 0x7F80) // beyond the largest bfloat16
        #expect(BFloat16GEMM.rounded(.nan).isNaN)
        #expect(BFloat16GEMM.rounded(Float(bitPattern: 0x7F80_0001)).isNaN) // a NaN whose payload is in the low half
        #expect(bnn_float_from_bf16(0x3FC0) == 1.5)
        var generator = SeededGenerator(seed: 3)
        for _ in 0..<1000 {
            let x = (generator.nextUnitFloat() * 2 - 1) * 1000
            let r = BFloat16GEMM.rounded(x)
            #expect(abs(r - x) <= abs(x) * 0x1p-8, "\(x) rounded to \(r)")
            #expect(r.bitPattern & 0xFFFF == 0)
        }
    }

    /// One product with padded row strides; returns the worst error against the double-precision
    /// product of the rounded operands divided by `1e-5 · (|C₀| + Σ|a·b|) + 1e-6` (≤ 1 passes), and
    /// the worst error against the unrounded product divided by `2⁻⁷ · Σ|a·b| + 1e-6`.
    static func worstErrors(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, accumulate: Bool,
                            kernel: BFloat16GEMM.Kernel?, seed: UInt64) -> (rounded: Double, unrounded: Double) {
        var generator = SeededGenerator(seed: seed)
        let (aRows, aCols) = transposeA ? (k, m) : (m, k)
        let (bRows, bCols) = transposeB ? (n, k) : (k, n)
        let lda = aCols + 3, ldb = bCols + 1, ldc = n + 2
        let a = GEMMTests.random(aRows * lda, &generator), b = GEMMTests.random(bRows * ldb, &generator)
        let c0 = GEMMTests.random(m * ldc, &generator)
        var c = c0
        BFloat16GEMM.multiply(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a, lda: lda,
                              b: b, ldb: ldb, c: &c, ldc: ldc, accumulate: accumulate, kernel: kernel)
        var worstRounded = 0.0, worstUnrounded = 0.0
        for i in 0..<m {
            for j in 0..<n {
                var exact = accumulate ? Double(c0[i * ldc + j]) : 0, unrounded = exact
                var magnitude = abs(exact)
                for p in 0..<k {
                    let x = transposeA ? a[p * lda + i] : a[i * lda + p]
                    let y = transposeB ? b[j * ldb + p] : b[p * ldb + j]
                    let product = Double(BFloat16GEMM.rounded(x)) * Double(BFloat16GEMM.rounded(y))
                    exact += product
                    unrounded += Double(x) * Double(y)
                    magnitude += abs(product)
                }
                let value = Double(c[i * ldc + j])
                worstRounded = max(worstRounded, abs(value - exact) / (1e-5 * magnitude + 1e-6))
                worstUnrounded = max(worstUnrounded, abs(value - unrounded) / (0x1p-7 * magnitude + 1e-6))
            }
            for j in n..<ldc { #expect(c[i * ldc + j] == c0[i * ldc + j]) } // padding untouched
        }
        return (worstRounded, worstUnrounded)
    }

    @Test("every kernel matches the product of the rounded operands", arguments: GEMMTests.Form.allCases)
    func matchesRoundedProduct(form: GEMMTests.Form) {
        for (index, (m, n, k)) in GEMMTests.sizes.enumerated() {
            for kernel in Self.kernels {
                let accumulate = index % 2 == 1
                let errors = Self.worstErrors(transposeA: form.transposeA, transposeB: form.transposeB, m: m, n: n,
                                              k: k, accumulate: accumulate, kernel: kernel, seed: UInt64(index))
                let label = "\(form) m=\(m) n=\(n) k=\(k) acc=\(accumulate) kernel=\(String(describing: kernel))"
                #expect(errors.rounded <= 1, "\(label)")
                #expect(errors.unrounded <= 1, "\(label)")
            }
        }
    }

    @Test("the optimised kernel agrees with the reference kernel")
    func optimisedMatchesReference() {
        let optimised = BFloat16GEMM.Kernel.allCases.filter { $0 != .reference && $0.isAvailable }
        var generator = SeededGenerator(seed: 11)
        let (m, n, k) = (77, 45, 515)
        let a = GEMMTests.random(m * k, &generator), b = GEMMTests.random(k * n, &generator)
        var expected = [Float](repeating: 0, count: m * n)
        BFloat16GEMM.multiply(transposeA: false, transposeB: false, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n,
                              c: &expected, ldc: n, accumulate: false, kernel: .reference)
        for kernel in optimised {
            var c = [Float](repeating: 0, count: m * n)
            BFloat16GEMM.multiply(transposeA: false, transposeB: false, m: m, n: n, k: k, a: a, lda: k, b: b,
                                  ldb: n, c: &c, ldc: n, accumulate: false, kernel: kernel)
            // Both sum exact products in single precision; only their rounding order differs.
            let worst = zip(c, expected).map { abs($0 - $1) }.max() ?? 0
            #expect(worst <= 1e-4, "\(kernel): \(worst)")
        }
    }

    @Test("K = 0 clears C, or leaves it when accumulating")
    func emptyInnerDimension() {
        for kernel in Self.kernels {
            var c: [Float] = [1, 2, 3, 4]
            BFloat16GEMM.multiply(transposeA: false, transposeB: false, m: 2, n: 2, k: 0, a: [0], lda: 0, b: [0],
                                  ldb: 2, c: &c, ldc: 2, accumulate: true, kernel: kernel)
            #expect(c == [1, 2, 3, 4])
            BFloat16GEMM.multiply(transposeA: false, transposeB: false, m: 2, n: 2, k: 0, a: [0], lda: 0, b: [0],
                                  ldb: 2, c: &c, ldc: 2, accumulate: false, kernel: kernel)
            #expect(c == [0, 0, 0, 0])
        }
    }
}
