/// Single-precision matrix multiplication on row-major matrices, split across cores.
public enum GEMM {
    /// `C = A·Bᵀ (+ C when accumulate)`, with A of M×K (row stride `lda`), B of N×K (row stride `ldb`)
    /// and C of M×N (row stride `ldc`).
    ///
    /// "NT" form: both operands are read along K contiguously, which is how convolution patches
    /// (rows of im2col) meet O×(kH·kW·C) weights.
    public static func multiplyNT(m: Int, n: Int, k: Int,
                                  a: UnsafePointer<Float>, lda: Int,
                                  b: UnsafePointer<Float>, ldb: Int,
                                  c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        Parallel.forEachChunk(m, minimumChunk: max(1, 16_384 / max(1, n * k / 64 + 1))) { rows in
            for i in rows {
                let ai = a + i * lda
                let ci = c + i * ldc
                for j in 0..<n {
                    let bj = b + j * ldb
                    var s: Float = 0
                    for p in 0..<k { s += ai[p] * bj[p] }
                    ci[j] = accumulate ? ci[j] + s : s
                }
            }
        }
    }

    /// `C = A·B (+ C when accumulate)`, with A of M×K, B of K×N and C of M×N, all row-major.
    public static func multiplyNN(m: Int, n: Int, k: Int,
                                  a: UnsafePointer<Float>, lda: Int,
                                  b: UnsafePointer<Float>, ldb: Int,
                                  c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        Parallel.forEachChunk(m, minimumChunk: 4) { rows in
            for i in rows {
                let ci = c + i * ldc
                if !accumulate { ci.update(repeating: 0, count: n) }
                for p in 0..<k {
                    let aip = a[i * lda + p]
                    if aip == 0 { continue }
                    let bp = b + p * ldb
                    for j in 0..<n { ci[j] += aip * bp[j] }
                }
            }
        }
    }

    /// `C = Aᵀ·B (+ C when accumulate)`, with A of K×M, B of K×N and C of M×N, all row-major.
    public static func multiplyTN(m: Int, n: Int, k: Int,
                                  a: UnsafePointer<Float>, lda: Int,
                                  b: UnsafePointer<Float>, ldb: Int,
                                  c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        Parallel.forEachChunk(m, minimumChunk: 4) { rows in
            for i in rows {
                let ci = c + i * ldc
                if !accumulate { ci.update(repeating: 0, count: n) }
                for p in 0..<k {
                    let api = a[p * lda + i]
                    if api == 0 { continue }
                    let bp = b + p * ldb
                    for j in 0..<n { ci[j] += api * bp[j] }
                }
            }
        }
    }
}
