import BNNKernels

/// Single-precision matrix multiplication on row-major matrices, split across cores.
///
/// The work runs in the blocked, packed C kernels of `BNNKernels` (`bnn_sgemm.h`): a
/// register-blocked micro-kernel (12×32 AVX-512 or 6×16 AVX2+FMA on x86_64, 6×16 NEON on arm64,
/// or the 6×16 portable reference) over B packed into 16-column panels, with A rows read in place
/// (or packed into 6-row panels when A is transposed with a row stride above 256). Products of at
/// most ``tinyProductLimit`` multiply-adds skip packing and run as plain loops on the calling
/// thread. Products with few rows (M ≤ 192, such as weight gradients) pack B panel pair by panel
/// pair right before the row tiles use it (`bnn_sgemm_streamed`); the others pack B whole first.
/// Work is split over ``Parallel/threadCount`` threads along M or N (the longer side), or, for a
/// small M×N output with a long K, along K with one partial output per thread.
///
/// Accuracy: every variant sums in single precision in the same order per K block (256 steps),
/// so results agree with a double-precision product to about `K · 2⁻²⁴ · Σ|aᵢₖ·bₖⱼ|`.
public enum GEMM {
    /// The micro-kernel families of the C kernels.
    public enum Kernel: Sendable, CaseIterable, CustomStringConvertible {
        /// Portable C, runs on any CPU.
        case reference
        /// x86_64 AVX2 + FMA.
        case avx2FMA
        /// x86_64 AVX-512F.
        case avx512
        /// arm64 Advanced SIMD.
        case neon

        /// The fastest kernel the CPU allows, honouring `BNN_KERNELS=reference` and
        /// `bnn_cpu_force_reference`.
        public static var active: Kernel { Kernel(bnn_sgemm_active_kernel()) }

        /// Whether this kernel can run on the current CPU.
        public var isAvailable: Bool { bnn_sgemm_kernel_available(cValue) != 0 }

        /// A short name: "reference", "avx2", "avx512" or "neon".
        public var description: String {
            switch self {
            case .reference: return "reference"
            case .avx2FMA: return "avx2"
            case .avx512: return "avx512"
            case .neon: return "neon"
            }
        }

        init(_ value: bnn_sgemm_kernel) {
            switch value {
            case BNN_SGEMM_AVX2_FMA: self = .avx2FMA
            case BNN_SGEMM_AVX512: self = .avx512
            case BNN_SGEMM_NEON: self = .neon
            default: self = .reference
            }
        }

        var cValue: bnn_sgemm_kernel {
            switch self {
            case .reference: return BNN_SGEMM_REFERENCE
            case .avx2FMA: return BNN_SGEMM_AVX2_FMA
            case .avx512: return BNN_SGEMM_AVX512
            case .neon: return BNN_SGEMM_NEON
            }
        }
    }

    /// Products with at most this many multiply-adds (M·N·K) run as plain loops without packing
    /// when no kernel is requested explicitly.
    public static let tinyProductLimit = 32_768

    /// Multiply-adds below which a product is not worth splitting across threads.
    static let minimumMACsPerThread = 1 << 20

    /// `C = A·Bᵀ (+ C when accumulate)`, with A of M×K (row stride `lda`), B of N×K (row stride `ldb`)
    /// and C of M×N (row stride `ldc`).
    ///
    /// "NT" form: both operands are read along K contiguously, which is how convolution patches
    /// (rows of im2col) meet O×(kH·kW·C) weights. `kernel` nil picks ``Kernel/active`` (and plain
    /// loops for tiny products); an explicit kernel always runs the blocked path with it.
    public static func multiplyNT(m: Int, n: Int, k: Int,
                                  a: UnsafePointer<Float>, lda: Int,
                                  b: UnsafePointer<Float>, ldb: Int,
                                  c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool,
                                  kernel: Kernel? = nil) {
        multiply(transposeA: false, transposeB: true, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                 c: c, ldc: ldc, accumulate: accumulate, kernel: kernel)
    }

    /// `C = A·B (+ C when accumulate)`, with A of M×K, B of K×N and C of M×N, all row-major.
    /// `kernel` as in ``multiplyNT(m:n:k:a:lda:b:ldb:c:ldc:accumulate:kernel:)``.
    public static func multiplyNN(m: Int, n: Int, k: Int,
                                  a: UnsafePointer<Float>, lda: Int,
                                  b: UnsafePointer<Float>, ldb: Int,
                                  c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool,
                                  kernel: Kernel? = nil) {
        multiply(transposeA: false, transposeB: false, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                 c: c, ldc: ldc, accumulate: accumulate, kernel: kernel)
    }

    /// `C = Aᵀ·B (+ C when accumulate)`, with A of K×M, B of K×N and C of M×N, all row-major.
    /// `kernel` as in ``multiplyNT(m:n:k:a:lda:b:ldb:c:ldc:accumulate:kernel:)``.
    public static func multiplyTN(m: Int, n: Int, k: Int,
                                  a: UnsafePointer<Float>, lda: Int,
                                  b: UnsafePointer<Float>, ldb: Int,
                                  c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool,
                                  kernel: Kernel? = nil) {
        multiply(transposeA: true, transposeB: false, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                 c: c, ldc: ldc, accumulate: accumulate, kernel: kernel)
    }

    /// `C = op(A)·op(B) (+ C when accumulate)` where op(A) is M×K and op(B) is K×N; a transposed
    /// operand is stored as its transpose (A as K×M, B as N×K), all row-major with the given row
    /// strides. `kernel` nil picks ``Kernel/active`` and plain loops for tiny products; an explicit
    /// kernel always runs the blocked, packed path with that micro-kernel.
    public static func multiply(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                                a: UnsafePointer<Float>, lda: Int,
                                b: UnsafePointer<Float>, ldb: Int,
                                c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool,
                                kernel: Kernel? = nil) {
        precondition(m >= 0 && n >= 0 && k >= 0, "GEMM sizes must be non-negative")
        precondition(lda >= (transposeA ? m : k) && ldb >= (transposeB ? k : n) && ldc >= n,
                     "GEMM row strides must cover the rows")
        guard m > 0, n > 0 else { return }
        if kernel == nil && m * n * k <= tinyProductLimit {
            bnn_sgemm_naive(transposeA ? 1 : 0, transposeB ? 1 : 0, m, n, k, a, lda, b, ldb, c, ldc,
                            accumulate ? 1 : 0)
            return
        }
        let cKernel = (kernel ?? .active).cValue
        if m <= Int(BNN_SGEMM_STREAMED_M_MAX) {
            // Every element of B meets all M rows in one block: pack B block by block as the row
            // tiles use it instead of writing a packed copy of all of it first.
            let tA: Int32 = transposeA ? 1 : 0, tB: Int32 = transposeB ? 1 : 0
            let splitK = forEachKPiece(m: m, n: n, k: k, c: c, ldc: ldc, accumulate: accumulate) { ks, out, ldo, add in
                bnn_sgemm_streamed(cKernel, tA, tB, ks.lowerBound, ks.upperBound, a, lda, b, ldb, out, ldo, add ? 1 : 0,
                                   0, m, 0, n)
            }
            if !splitK {
                forEachTile(m: m, n: n, macs: m * n * k) { m0, m1, n0, n1 in
                    bnn_sgemm_streamed(cKernel, tA, tB, 0, k, a, lda, b, ldb, c, ldc, accumulate ? 1 : 0,
                                       m0, m1, n0, n1)
                }
            }
            return
        }
        let packed = PackedPanels(transposed: transposeB, n: n, k: k, b: b, ldb: ldb)
        defer { packed.deallocate() }
        multiply(transposeA: transposeA, m: m, k: k, a: a, lda: lda, packedB: packed, c: c, ldc: ldc,
                 accumulate: accumulate, kernel: kernel ?? .active)
    }

    /// Largest M×N output (floats) whose product may be split along K, each thread summing into an
    /// output of its own (1 MiB).
    static let kSplitOutputLimit = 1 << 18

    /// K steps per unit of a K split: one K block of the C kernels.
    static let kSplitGrain = 256

    /// Runs a product with a small M×N output (at most ``kSplitOutputLimit`` floats) and a long K
    /// (at least two K blocks per thread) on ``Parallel/threadCount`` threads split along K, as
    /// weight gradients need: `body(kRange, output, ldOutput, accumulate)` sums the K steps
    /// `kRange` into `output`. The K range is cut into pieces (up to four per thread, whole K
    /// blocks) that the threads claim dynamically. Piece 0 sums into `c` (honouring `accumulate`),
    /// every other piece into an M×N buffer of its own, and the buffers are added into `c` in piece
    /// order at the end, so the result does not depend on which thread ran which piece: the same
    /// from run to run. Returns false, without calling `body`, when the product should not be split
    /// along K.
    static func forEachKPiece(m: Int, n: Int, k: Int, c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool,
                              _ body: (Range<Int>, UnsafeMutablePointer<Float>, Int, Bool) -> Void) -> Bool {
        let units = (k + kSplitGrain - 1) / kSplitGrain
        let threads = min(Parallel.threadCount, units / 2, max(1, m * n * k / minimumMACsPerThread))
        guard threads > 1, m * n <= kSplitOutputLimit else { return false }
        let pieces = min(units, 4 * threads)
        let (block, reservedBytes) = TensorAllocator.shared.allocate(
            byteCount: max(1, (pieces - 1) * m * n) * MemoryLayout<Float>.stride)
        defer { TensorAllocator.shared.deallocate(block, reservedBytes: reservedBytes) }
        let partial = block.bindMemory(to: Float.self, capacity: max(1, (pieces - 1) * m * n))
        let counter = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        counter.initialize(to: 0)
        defer { counter.deallocate() }
        Parallel.forEachChunk(threads) { _ in
            while true {
                let piece = bnn_sgemm_claim(counter)
                if piece >= pieces { break }
                let k0 = min(k, units * piece / pieces * kSplitGrain)
                let k1 = min(k, units * (piece + 1) / pieces * kSplitGrain)
                if piece == 0 {
                    body(k0..<k1, c, ldc, accumulate)
                } else {
                    body(k0..<k1, partial + (piece - 1) * m * n, n, false)
                }
            }
        }
        for piece in 1..<pieces {
            let source = partial + (piece - 1) * m * n
            for i in 0..<m {
                let row = c + i * ldc, part = source + i * n
                for j in 0..<n { row[j] += part[j] }
            }
        }
        return true
    }

    /// `C (+)= op(A)·B̃` on all threads for a B already packed into panels.
    static func multiply(transposeA: Bool, m: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                         packedB: PackedPanels, c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool,
                         kernel: Kernel) {
        let cKernel = kernel.cValue
        let packed = packedB.base
        forEachTile(m: m, n: packedB.n, macs: m * packedB.n * k) { m0, m1, n0, n1 in
            bnn_sgemm_packed(cKernel, transposeA ? 1 : 0, k, a, lda, packed, c, ldc, accumulate ? 1 : 0,
                             m0, m1, n0, n1)
        }
    }

    /// Runs `body(m0, m1, n0, n1)` on disjoint tiles covering an M×N output: split along M in
    /// multiples of 12 rows when M ≥ N, else along N in multiples of 32 columns (`n0` is always a
    /// multiple of 16). Small products (`macs`) stay on the calling thread.
    static func forEachTile(m: Int, n: Int, macs: Int, _ body: (Int, Int, Int, Int) -> Void) {
        let mr = Int(BNN_SGEMM_TILE_M), nr = Int(BNN_SGEMM_TILE_N)
        let rowTiles = (m + mr - 1) / mr, columnPanels = (n + nr - 1) / nr
        if m >= n || columnPanels < 2 {
            forEachPiece(of: rowTiles, macs: macs) { tiles in
                body(tiles.lowerBound * mr, min(m, tiles.upperBound * mr), 0, n)
            }
        } else {
            forEachPiece(of: columnPanels, macs: macs) { panels in
                body(0, m, panels.lowerBound * nr, min(n, panels.upperBound * nr))
            }
        }
    }

    /// Runs `body` on contiguous pieces covering `0..<units` on ``Parallel/threadCount`` threads.
    /// There are up to four pieces per thread, claimed dynamically, so a core shared with other
    /// work delays only the pieces it runs; work below ``minimumMACsPerThread`` per thread (`macs`
    /// in all) runs inline as one piece.
    static func forEachPiece(of units: Int, macs: Int, _ body: (Range<Int>) -> Void) {
        guard units > 0 else { return }
        let threads = min(Parallel.threadCount, units, max(1, macs / minimumMACsPerThread))
        if threads <= 1 {
            body(0..<units)
            return
        }
        let pieces = min(units, 4 * threads)
        let counter = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        counter.initialize(to: 0)
        defer { counter.deallocate() }
        Parallel.forEachChunk(threads) { _ in
            while true {
                let piece = bnn_sgemm_claim(counter)
                if piece >= pieces { break }
                body(units * piece / pieces ..< units * (piece + 1) / pieces)
            }
        }
    }

    /// A K×N operand packed into 16-column panels `[panel][K][16]` (64-byte aligned), the layout of
    /// `bnn_sgemm_pack_b`. Owns its memory until ``deallocate()``.
    struct PackedPanels {
        /// Columns N of the packed operand.
        let n: Int
        /// Rows K of the packed operand.
        let k: Int
        /// The packed floats.
        let base: UnsafeMutablePointer<Float>

        /// Allocates room for a K×N operand and fills it with `pack(target, panels)`, called on
        /// disjoint panel ranges from several threads.
        init(n: Int, k: Int, pack: (UnsafeMutablePointer<Float>, Range<Int>) -> Void) {
            self.n = n
            self.k = k
            let count = max(1, bnn_sgemm_packed_b_count(n, k))
            base = UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Float>.stride, alignment: 64)
                .bindMemory(to: Float.self, capacity: count)
            let panels = (n + Int(BNN_SGEMM_NR) - 1) / Int(BNN_SGEMM_NR)
            let target = base
            let minimumPanels = max(1, 262_144 / max(1, k * Int(BNN_SGEMM_NR)))
            Parallel.forEachChunk(panels, minimumChunk: minimumPanels) { range in pack(target, range) }
        }

        /// Packs op(B) (B stored N×K when `transposed`, else K×N), the panels split across threads.
        init(transposed: Bool, n: Int, k: Int, b: UnsafePointer<Float>, ldb: Int) {
            self.init(n: n, k: k) { target, range in
                bnn_sgemm_pack_b(transposed ? 1 : 0, n, k, b, ldb, range.lowerBound, range.upperBound, target)
            }
        }

        /// Frees the packed floats.
        func deallocate() { UnsafeMutableRawPointer(base).deallocate() }
    }
}
