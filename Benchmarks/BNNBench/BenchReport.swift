import Foundation

/// Everything one `bnn-bench` run measured, ready to print as a table or JSON.
struct BenchReport: Encodable {
    /// The active kernel family ("avx2", "neon" or "reference").
    var kernels: String
    /// The binary convolution variant ("avx512-vpopcntdq", "avx2", "neon" or "reference").
    var binaryKernel: String
    /// All threads available (`Parallel.threadCount` at start).
    var availableThreads: Int
    /// Peak probes, one per measured thread count.
    var peaks: [PeakProbes]
    /// One row per convolution measurement.
    var convolutions: [Row]

    /// A measurement with its derived rates and percentages of peak.
    struct Row: Encodable {
        var measurement: ConvolutionMeasurement
        var floatGFLOPS: Double?
        var floatPercentOfFMAPeak: Double?
        var binaryGOPS: Double
        var kernelGOPS: Double
        /// Kernel bit-MACs per second as a percentage of the popcount peak of the kernel's
        /// instruction set at the same thread count.
        var kernelPercentOfPopcountPeak: Double
        var speedUp: Double?

        init(_ m: ConvolutionMeasurement, peak: PeakProbes?, binaryKernel: String) {
            measurement = m
            floatGFLOPS = m.floatGFLOPS
            floatPercentOfFMAPeak = zip2(m.floatGFLOPS, peak.map { $0.fmaFlopsPerSecond }).map { 100 * $0 * 1e9 / $1 }
            binaryGOPS = m.binaryGOPS
            kernelGOPS = m.kernelGOPS
            kernelPercentOfPopcountPeak = peak.map {
                100 * Double(m.macs) / m.kernelSeconds / $0.popcountBitsPerSecond(forKernel: binaryKernel)
            } ?? 0
            speedUp = m.speedUp
        }
    }

    init(kernels: String, binaryKernel: String, availableThreads: Int, peaks: [PeakProbes], measurements: [ConvolutionMeasurement]) {
        self.kernels = kernels
        self.binaryKernel = binaryKernel
        self.availableThreads = availableThreads
        self.peaks = peaks
        convolutions = measurements.map { m in
            Row(m, peak: peaks.first { $0.threads == m.threads }, binaryKernel: binaryKernel)
        }
    }

    /// The readable report: peaks, then one table row per measurement.
    func table() -> String {
        var lines: [String] = []
        lines.append("bnn-bench: kernels \(kernels), binary convolution \(binaryKernel), \(availableThreads) threads available")
        lines.append("")
        lines.append("Peak probes (register-only loops)")
        let peakWidths = [8, 16, 16, 16, 20, 20, 20]
        lines.append(pad(["threads", "FMA256 GFLOP/s", "FMA512 GFLOP/s", "BF16dot GFLOP/s", "AVX2 popc Gbit/s",
                          "AVX512 popc Gbit/s", "scalar popc Gbit/s"], peakWidths))
        for p in peaks {
            lines.append(pad(["\(p.threads)", f1(p.fma256FlopsPerSecond / 1e9), f1(p.fma512FlopsPerSecond / 1e9),
                              f1(p.bf16Dot512FlopsPerSecond / 1e9),
                              f1(p.vectorPopcountBitsPerSecond / 1e9), f1(p.popcount512BitsPerSecond / 1e9),
                              f1(p.scalarPopcountBitsPerSecond / 1e9)], peakWidths))
        }
        lines.append("")
        lines.append("Convolutions of Bi-Real Net 34 at 224² (binary = sign-and-pack + XOR-popcount + fused transform;")
        lines.append("kernel = XOR-popcount alone; % = of the peak of its kind at the same thread count: FMA for float,")
        lines.append("the popcount probe of the binary kernel's instruction set for binary; * = binary in the model)")
        let widths = [24, 3, 3, 10, 8, 6, 9, 8, 9, 8, 6, 8, 10, 9]
        lines.append(pad(["layer", "N", "thr", "float ms", "GFLOP/s", "%FMA", "binary ms", "pack ms", "kernel ms",
                          "GOP/s", "%popc", "speed-up", "W float", "W packed"], widths))
        for r in convolutions {
            let m = r.measurement
            lines.append(pad([(m.binaryInModel ? "*" : " ") + m.layer, "\(m.batch)", "\(m.threads)",
                              m.floatSeconds.map { f3($0 * 1e3) } ?? "-", r.floatGFLOPS.map(f1) ?? "-",
                              r.floatPercentOfFMAPeak.map(f0) ?? "-", f3(m.binarySeconds * 1e3),
                              f3(m.packSeconds * 1e3), f3(m.kernelSeconds * 1e3), f0(r.kernelGOPS),
                              f0(r.kernelPercentOfPopcountPeak), r.speedUp.map { f1($0) + "×" } ?? "-",
                              bytes(m.floatWeightBytes), bytes(m.packedWeightBytes)], widths))
        }
        return lines.joined(separator: "\n")
    }

    /// Pretty-printed JSON of the whole report.
    func json() throws -> String { try BenchFormatting.json(self) }

    private func pad(_ cells: [String], _ widths: [Int]) -> String { BenchFormatting.pad(cells, widths) }
    private func f0(_ x: Double) -> String { String(format: "%.0f", x) }
    private func f1(_ x: Double) -> String { String(format: "%.1f", x) }
    private func f3(_ x: Double) -> String { String(format: "%.3f", x) }
    private func bytes(_ n: Int) -> String {
        n >= 1 << 20 ? String(format: "%.2f MiB", Double(n) / 1_048_576) : String(format: "%.1f KiB", Double(n) / 1024)
    }
}

/// Both values when both are present.
private func zip2<A, B>(_ a: A?, _ b: B?) -> (A, B)? {
    guard let a, let b else { return nil }
    return (a, b)
}
