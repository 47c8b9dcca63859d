import BNN
import BNNKernels

/// Single precision vs bfloat16 GEMM on the product shapes of Bi-Real Net training, and the weight
/// gradient of the widest 3×3 convolution (``Convolution/backwardWeight(input:outputGradient:weightGradient:geometry:kernel:precision:)``
/// at 56²×64, batch 16, from a float input and, as ``BinaryConv2D`` runs it, from packed signs:
/// ``PackedActivations/convolutionWeightGradient(outputGradient:geometry:groups:precision:)``), as rates and as percentages of the in-run peak of each precision (FMA512
/// for fp32, `vdpbf16ps` for bf16).
struct GEMMBenchmark {
    /// One product shape: op(A) M×K times op(B) K×N, with the storage form training uses, or a
    /// convolution's weight gradient (M = O, N = kH·kW·C, K = pixels of the batch).
    struct Shape {
        var name: String
        var m, n, k: Int
        var transposeA, transposeB: Bool
        var weightGradientOf: ConvolutionGeometry? = nil
        /// Whether the weight gradient's input is kept as packed signs (B's signs, with a border of
        /// the padding) rather than floats.
        var fromSigns = false
    }

    /// One shape at one thread count.
    struct Row: Encodable {
        var shape: String
        var m, n, k, threads: Int
        var fp32Milliseconds: Double
        var fp32GFLOPS: Double
        var fp32PercentOfPeak: Double
        /// nil when the CPU has no bfloat16 instructions (the reference kernel is not measured).
        var bf16Milliseconds: Double?
        var bf16GFLOPS: Double?
        var bf16PercentOfPeak: Double?
        var speedUp: Double?
    }

    /// The shapes: a 3×3 56²×64 layer's weight gradient over 4 images (dYᵀ·patches), its forward
    /// pass as a GEMM (patches·Wᵀ), the classifier of a batch of 16, a square product, and the whole
    /// weight gradient of that layer at batch 16 (from a float input and from packed signs).
    static let shapes = [
        Shape(name: "wgrad 56²×64, 4 images", m: 64, n: 576, k: 4 * 3136, transposeA: true, transposeB: false),
        Shape(name: "forward 56²×64 as GEMM", m: 3136, n: 64, k: 576, transposeA: false, transposeB: true),
        Shape(name: "classifier 16×512→1000", m: 16, n: 1000, k: 512, transposeA: false, transposeB: true),
        Shape(name: "square 1024", m: 1024, n: 1024, k: 1024, transposeA: false, transposeB: false),
        Shape(name: "conv wgrad 3×3 56²×64 N16", m: 64, n: 576, k: 16 * 3136, transposeA: true, transposeB: false,
              weightGradientOf: ConvolutionGeometry(batch: 16, inputHeight: 56, inputWidth: 56, inputChannels: 64,
                                                    outputChannels: 64, kernelHeight: 3, kernelWidth: 3, stride: 1,
                                                    padding: 1)),
        // As BinaryConv2D runs it: from the packed signs of its input (expanded to floats in fp32,
        // paired straight from the bits in bf16).
        Shape(name: "conv wgrad from packed signs", m: 64, n: 576, k: 16 * 3136, transposeA: true, transposeB: false,
              weightGradientOf: ConvolutionGeometry(batch: 16, inputHeight: 56, inputWidth: 56, inputChannels: 64,
                                                    outputChannels: 64, kernelHeight: 3, kernelWidth: 3, stride: 1,
                                                    padding: 1),
              fromSigns: true),
    ]

    var threads: [Int]
    var quick: Bool
    var peaks: [PeakProbes]

    func run(progress: (String) -> Void) -> [Row] {
        var rows: [Row] = []
        let hasBF16 = BFloat16GEMM.hardwareAvailable && BFloat16GEMM.Kernel.active != .reference
        let savedThreads = Parallel.threadCount
        defer { Parallel.threadCount = savedThreads }
        for shape in Self.shapes {
            var generator = SeededGenerator(seed: 1)
            // A convolution's operands: the output gradient (pixels × O) and the input (N·H·W·C).
            let aCount = shape.weightGradientOf?.outputCount ?? shape.m * shape.k
            let bCount = shape.weightGradientOf?.inputCount ?? shape.k * shape.n
            let a = (0..<aCount).map { _ in generator.nextUnitFloat() - 0.5 }
            let b = (0..<bCount).map { _ in generator.nextUnitFloat() - 0.5 }
            var c = [Float](repeating: 0, count: shape.m * shape.n)
            let signs = shape.weightGradientOf.flatMap { g -> PackedActivations? in
                guard shape.fromSigns else { return nil }
                do {
                    return try PackedActivations(packing: Tensor(shape: g.inputShape, scalars: b), margin: g.padding)
                } catch {
                    preconditionFailure("bnn-bench gemm: the shape table's input does not pack: \(error)")
                }
            }
            let outputGradient = shape.weightGradientOf.map { Tensor(shape: $0.outputShape, scalars: a) }
            let lda = shape.transposeA ? shape.m : shape.k, ldb = shape.transposeB ? shape.k : shape.n
            let flops = 2 * Double(shape.m * shape.n * shape.k)
            for threadCount in threads {
                progress("bnn-bench: gemm \(shape.name), \(threadCount) thread(s)")
                let peak = peaks.first { $0.threads == threadCount }
                Parallel.threadCount = threadCount
                let seconds = { (body: () -> Void) in
                    BenchClock.fastest(minimumRuns: quick ? 2 : 5, minimumSeconds: quick ? 0.05 : 0.3, body)
                }
                let product = { (precision: ComputePrecision) in
                    if let g = shape.weightGradientOf, let signs, let outputGradient {
                        _ = signs.convolutionWeightGradient(outputGradient: outputGradient, geometry: g, precision: precision)
                    } else if let g = shape.weightGradientOf {
                        Convolution.backwardWeight(input: b, outputGradient: a, weightGradient: &c, geometry: g,
                                                   precision: precision)
                    } else {
                        GEMM.multiply(precision: precision, transposeA: shape.transposeA,
                                      transposeB: shape.transposeB, m: shape.m, n: shape.n, k: shape.k, a: a, lda: lda,
                                      b: b, ldb: ldb, c: &c, ldc: shape.n, accumulate: false)
                    }
                }
                let fp32 = seconds { product(.fp32) }
                let bf16: Double? = hasBF16 ? seconds { product(.bf16) } : nil
                let fp32Rate = flops / fp32, bf16Rate = bf16.map { flops / $0 }
                rows.append(Row(shape: shape.name, m: shape.m, n: shape.n, k: shape.k, threads: threadCount,
                                fp32Milliseconds: fp32 * 1e3, fp32GFLOPS: fp32Rate / 1e9,
                                fp32PercentOfPeak: 100 * fp32Rate / (peak?.fmaFlopsPerSecond ?? .infinity),
                                bf16Milliseconds: bf16.map { $0 * 1e3 }, bf16GFLOPS: bf16Rate.map { $0 / 1e9 },
                                bf16PercentOfPeak: bf16Rate.map { 100 * $0 / (peak?.bf16Dot512FlopsPerSecond ?? .infinity) },
                                speedUp: bf16.map { fp32 / $0 }))
            }
        }
        return rows
    }

    static func table(_ rows: [Row], peaks: [PeakProbes]) -> String {
        var lines = ["GEMM, fp32 vs bfloat16 operands with fp32 sums (kernel \(BFloat16GEMM.Kernel.active));"
                     + " % = of the in-run peak of each precision"]
        for p in peaks {
            lines.append(String(format: "peak, %d thread(s): FMA %.1f GFLOP/s, bf16 dot %.1f GFLOP/s", p.threads,
                                p.fmaFlopsPerSecond / 1e9, p.bf16Dot512FlopsPerSecond / 1e9))
        }
        let widths = [26, 3, 10, 9, 6, 10, 9, 6, 8]
        lines.append(BenchFormatting.pad(["shape", "thr", "fp32 ms", "GFLOP/s", "%peak", "bf16 ms", "GFLOP/s", "%peak",
                                          "speed-up"], widths))
        for r in rows {
            func cell(_ x: Double?, _ format: String) -> String { x.map { String(format: format, $0) } ?? "-" }
            lines.append(BenchFormatting.pad([r.shape, "\(r.threads)", cell(r.fp32Milliseconds, "%.3f"),
                                              cell(r.fp32GFLOPS, "%.1f"), cell(r.fp32PercentOfPeak, "%.0f"),
                                              cell(r.bf16Milliseconds, "%.3f"), cell(r.bf16GFLOPS, "%.1f"),
                                              cell(r.bf16PercentOfPeak, "%.0f"), cell(r.speedUp, "%.2f×")], widths))
        }
        return lines.joined(separator: "\n")
    }
}
