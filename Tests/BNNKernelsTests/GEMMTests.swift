import BNN
import BNNKernels
import Testing

/// The blocked SGEMM (every available micro-kernel, and the automatic choice with its tiny-size
/// loops) against a double-precision naive product on odd sizes, strides and `accumulate`.
@Suite struct GEMMTests {
    /// The three storage forms callers use.
    enum Form: String, CaseIterable, CustomTestStringConvertible {
        case nt, nn, tn
        var transposeA: Bool { self == .tn }
        var transposeB: Bool { self == .nt }
        var testDescription: String { rawValue.uppercased() }
    }

    /// (M, N, K) covering 1, 2, 7, 15, 63, 64, 65, 130 and 257 in every position.
    static let sizes: [(Int, Int, Int)] = [
        (1, 1, 1), (2, 7, 15), (7, 15, 2), (15, 2, 7), (63, 64, 65), (64, 65, 63), (65, 63, 64),
        (130, 7, 257), (257, 130, 7), (7, 257, 130), (1, 257, 65), (257, 1, 63), (64, 64, 257),
        (130, 130, 15), (15, 130, 130), (65, 2, 257), (2, 257, 64), (257, 15, 1), (1, 63, 130),
        (130, 257, 2), (63, 1, 2),
    ]

    /// Kernels to compare: nil (automatic) and every variant this CPU runs.
    static var kernels: [GEMM.Kernel?] { [nil] + GEMM.Kernel.allCases.filter(\.isAvailable).map { $0 } }

    /// Random floats in −1…1.
    static func random(_ count: Int, _ generator: inout SeededGenerator) -> [Float] {
        (0..<count).map { _ in generator.nextUnitFloat() * 2 - 1 }
    }

    /// One product with padded row strides; returns the worst error divided by its bound
    /// `1e-5 · (|C₀| + Σ|a·b|) + 1e-6` (≤ 1 passes).
    static func worstError(form: Form, m: Int, n: Int, k: Int, accumulate: Bool, kernel: GEMM.Kernel?,
                           seed: UInt64) -> Double {
        var generator = SeededGenerator(seed: seed)
        let (aRows, aCols) = form.transposeA ? (k, m) : (m, k)
        let (bRows, bCols) = form.transposeB ? (n, k) : (k, n)
        let lda = aCols + 3, ldb = bCols + 1, ldc = n + 2
        let a = random(aRows * lda, &generator), b = random(bRows * ldb, &generator)
        let c0 = random(m * ldc, &generator)
        var c = c0
        GEMM.multiply(transposeA: form.transposeA, transposeB: form.transposeB, m: m, n: n, k: k,
                      a: a, lda: lda, b: b, ldb: ldb, c: &c, ldc: ldc, accumulate: accumulate, kernel: kernel)
        var worst = 0.0
        for i in 0..<m {
            for j in 0..<n {
                var exact = accumulate ? Double(c0[i * ldc + j]) : 0
                var magnitude = abs(exact)
                for p in 0..<k {
                    let x = Double(form.transposeA ? a[p * lda + i] : a[i * lda + p])
                    let y = Double(form.transposeB ? b[j * ldb + p] : b[p * ldb + j])
                    exact += x * y
                    magnitude += abs(x * y)
                }
                worst = max(worst, abs(Double(c[i * ldc + j]) - exact) / (1e-5 * magnitude + 1e-6))
            }
            // Padding columns past N must stay untouched.
            for j in n..<ldc { #expect(c[i * ldc + j] == c0[i * ldc + j]) }
        }
        return worst
    }

    @Test("every kernel matches the naive product", arguments: Form.allCases)
    func matchesNaive(form: Form) {
        for (index, (m, n, k)) in Self.sizes.enumerated() {
            for kernel in Self.kernels {
                let accumulate = index % 2 == 1
                let error = Self.worstError(form: form, m: m, n: n, k: k, accumulate: accumulate, kernel: kernel,
                                            seed: UInt64(index))
                #expect(error <= 1,
                        "\(form) m=\(m) n=\(n) k=\(k) acc=\(accumulate) kernel=\(String(describing: kernel))")
            }
        }
    }

    /// Few rows and a long K (at least 2 M multiply-adds, K ≥ 512): with two or more threads these
    /// are split along K, each thread summing into a partial output of its own.
    static let longK: [(Int, Int, Int)] = [(33, 70, 1100), (20, 130, 3001), (7, 257, 1200)]

    @Test("products with few rows and a long K match the naive product", arguments: Form.allCases)
    func longInnerDimension(form: Form) {
        for (index, (m, n, k)) in Self.longK.enumerated() {
            for kernel in Self.kernels {
                for accumulate in [false, true] {
                    let error = Self.worstError(form: form, m: m, n: n, k: k, accumulate: accumulate, kernel: kernel,
                                                seed: UInt64(100 + index))
                    #expect(error <= 1,
                            "\(form) m=\(m) n=\(n) k=\(k) acc=\(accumulate) kernel=\(String(describing: kernel))")
                }
            }
        }
    }

    @Test("K = 0 clears C, or leaves it when accumulating")
    func emptyInnerDimension() {
        for kernel in Self.kernels {
            var c: [Float] = [1, 2, 3, 4, 5, 6]
            let a: [Float] = [0], b: [Float] = [0]
            GEMM.multiplyNT(m: 2, n: 3, k: 0, a: a, lda: 1, b: b, ldb: 1, c: &c, ldc: 3, accumulate: true,
                            kernel: kernel)
            #expect(c == [1, 2, 3, 4, 5, 6])
            GEMM.multiplyNN(m: 2, n: 3, k: 0, a: a, lda: 1, b: b, ldb: 3, c: &c, ldc: 3, accumulate: false,
                            kernel: kernel)
            #expect(c == [0, 0, 0, 0, 0, 0])
        }
    }

    @Test("reference and optimised micro-kernels agree closely through the C entry points")
    func variantsAgree() {
        let optimised = GEMM.Kernel.allCases.filter { $0 != .reference && $0.isAvailable }
        var generator = SeededGenerator(seed: 7)
        let m = 65, n = 130, k = 257
        let a = Self.random(m * k, &generator), b = Self.random(k * n, &generator)
        let packed = UnsafeMutablePointer<Float>.allocate(capacity: bnn_sgemm_packed_b_count(n, k))
        defer { packed.deallocate() }
        bnn_sgemm_pack_b(0, n, k, b, n, 0, (n + 15) / 16, packed)
        var reference = [Float](repeating: 0, count: m * n)
        bnn_sgemm_packed(BNN_SGEMM_REFERENCE, 0, k, a, k, packed, &reference, n, 0, 0, m, 0, n)
        var naive = [Float](repeating: 0, count: m * n)
        bnn_sgemm_naive(0, 0, m, n, k, a, k, b, n, &naive, n, 0)
        let tolerance: Float = 1e-5 * Float(k)
        #expect(zip(reference, naive).allSatisfy { abs($0 - $1) <= tolerance })
        for kernel in optimised {
            var fast = [Float](repeating: 0, count: m * n)
            // Two tiles (split inside a 16-column panel boundary and off the 6-row grid) cover C.
            bnn_sgemm_packed(kernel.cValueForTests, 0, k, a, k, packed, &fast, n, 0, 0, 31, 0, n)
            bnn_sgemm_packed(kernel.cValueForTests, 0, k, a, k, packed, &fast, n, 0, 31, m, 0, 64)
            bnn_sgemm_packed(kernel.cValueForTests, 0, k, a, k, packed, &fast, n, 0, 31, m, 64, n)
            #expect(zip(reference, fast).allSatisfy { abs($0 - $1) <= tolerance }, "\(kernel)")
        }
    }

    @Test("the active kernel is available and named")
    func activeKernel() {
        #expect(GEMM.Kernel.active.isAvailable)
        #expect(GEMM.Kernel.reference.isAvailable)
        #expect(["reference", "avx2", "avx512", "neon"].contains(GEMM.Kernel.active.description))
    }
}

extension GEMM.Kernel {
    /// The C enumerator of this kernel.
    var cValueForTests: bnn_sgemm_kernel {
        switch self {
        case .reference: return BNN_SGEMM_REFERENCE
        case .avx2FMA: return BNN_SGEMM_AVX2_FMA
        case .avx512: return BNN_SGEMM_AVX512
        case .neon: return BNN_SGEMM_NEON
        }
    }
}
