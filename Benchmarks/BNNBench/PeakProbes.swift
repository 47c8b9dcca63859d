import BNNKernels
import Dispatch

/// Register-only peak probes of this CPU: float FMA, bfloat16 dot-product and XOR-popcount throughput, for a
/// given number of threads running at once. Kernels are reported as a percentage of the peak of
/// their kind.
struct PeakProbes: Codable {
    /// Threads that ran the probes concurrently.
    var threads: Int
    /// Float operations per second with 256-bit FMAs (an FMA counts 2).
    var fma256FlopsPerSecond: Double
    /// Float operations per second with 512-bit FMAs (0 without AVX-512).
    var fma512FlopsPerSecond: Double
    /// Float operations per second with 512-bit AVX512-BF16 `vdpbf16ps` (a bfloat16 multiply-add
    /// counts 2; 0 without AVX512-BF16).
    var bf16Dot512FlopsPerSecond: Double
    /// XOR-popcounted bits per second with the 256-bit AVX2 vpshufb popcount (0 when unavailable).
    var vectorPopcountBitsPerSecond: Double
    /// XOR-popcounted bits per second with the 512-bit vpopcntq (0 without AVX-512 VPOPCNTDQ).
    var popcount512BitsPerSecond: Double
    /// XOR-popcounted bits per second with the scalar popcount instruction.
    var scalarPopcountBitsPerSecond: Double

    /// The float peak: the faster FMA width.
    var fmaFlopsPerSecond: Double { max(fma256FlopsPerSecond, fma512FlopsPerSecond) }
    /// The XOR-popcount peak of the instructions a binary kernel variant uses ("avx512-vpopcntdq",
    /// "avx2", else scalar popcount): the peak that variant is compared with.
    func popcountBitsPerSecond(forKernel kernel: String) -> Double {
        switch kernel {
        case "avx512-vpopcntdq": return popcount512BitsPerSecond
        case "avx2": return vectorPopcountBitsPerSecond
        default: return scalarPopcountBitsPerSecond
        }
    }

    /// Measures the three probes with `threads` threads at once (each probe about `seconds` long).
    static func measure(threads: Int, seconds: Double) -> PeakProbes {
        PeakProbes(threads: threads,
                   fma256FlopsPerSecond: rate(threads: threads, seconds: seconds) { iterations in
                       var sink: Float = 0
                       let ops = bnn_probe_fma(iterations, &sink)
                       return (ops, UInt64(sink.bitPattern))
                   },
                   fma512FlopsPerSecond: rate(threads: threads, seconds: seconds) { iterations in
                       var sink: Float = 0
                       let ops = bnn_probe_fma512(iterations, &sink)
                       return (ops, UInt64(sink.bitPattern))
                   },
                   bf16Dot512FlopsPerSecond: rate(threads: threads, seconds: seconds) { iterations in
                       var sink: Float = 0
                       let ops = bnn_probe_bf16_dot512(iterations, &sink)
                       return (ops, UInt64(sink.bitPattern))
                   },
                   vectorPopcountBitsPerSecond: rate(threads: threads, seconds: seconds) { iterations in
                       var sink: UInt64 = 0
                       let ops = bnn_probe_popcount_vector(iterations, &sink)
                       return (ops, sink)
                   },
                   popcount512BitsPerSecond: rate(threads: threads, seconds: seconds) { iterations in
                       var sink: UInt64 = 0
                       let ops = bnn_probe_popcount512(iterations, &sink)
                       return (ops, sink)
                   },
                   scalarPopcountBitsPerSecond: rate(threads: threads, seconds: seconds) { iterations in
                       var sink: UInt64 = 0
                       let ops = bnn_probe_popcount_scalar(iterations, &sink)
                       return (ops, sink)
                   })
    }

    /// Operations per second of `probe` run on `threads` threads at once: the best of many short
    /// rounds (about a millisecond each) during `seconds`, so that a round which the other processes
    /// of a shared machine did not disturb sets the peak, as it does for the kernels.
    private static func rate(threads: Int, seconds: Double,
                             _ probe: @escaping @Sendable (Int64) -> (ops: Double, sink: UInt64)) -> Double {
        // A probe the CPU lacks reports 0 operations.
        guard probe(1).ops > 0 else { return 0 }
        var iterations: Int64 = 1 << 10
        while true {
            let t0 = BenchClock.now()
            _ = probe(iterations)
            if BenchClock.now() - t0 > 1e-3 || iterations > 1 << 40 { break }
            iterations *= 2
        }
        var best = 0.0
        let start = BenchClock.now()
        repeat {
            let t0 = BenchClock.now()
            let ops = OpsTotal()
            DispatchQueue.concurrentPerform(iterations: threads) { _ in ops.add(probe(iterations).ops) }
            best = max(best, ops.value / (BenchClock.now() - t0))
        } while BenchClock.now() - start < seconds
        return best
    }
}

/// Sums the operation counts reported by concurrent probe threads.
private final class OpsTotal: @unchecked Sendable {
    private let queue = DispatchQueue(label: "bnn-bench.ops")
    private var total = 0.0
    func add(_ ops: Double) { queue.sync { total += ops } }
    var value: Double { queue.sync { total } }
}
