import BiRealNet
import BNN
import BNNKernels
import Foundation
import ReActNet

/// Training throughput of whole networks (Bi-Real Nets, ReActNet-A): forward, backward and optimizer step timed separately,
/// images per second, the process's peak resident memory, and the step against its limit: the float
/// multiply-adds of a training step (forward float layers, and both gradients of every convolution and
/// dense layer, binary ones included) at the in-run peak of the precision each pass runs in, plus the
/// binary forward multiply-adds at the in-run XOR-popcount peak.
struct TrainingBenchmark {
    /// One measured configuration.
    struct Row: Encodable {
        /// `birealnet34@224`, `birealnet18-small@32` or `reactnet-a@224`.
        var model: String
        /// Images per batch.
        var batch: Int
        /// Compute threads.
        var threads: Int
        /// Precision policy: "fp32", "O1" (bf16 backward passes) or "O2" (bf16 forward and backward).
        var precision: String
        /// Training-mode forward pass, milliseconds per batch (median of the timed steps).
        var forwardMilliseconds: Double
        /// Loss gradient and backward pass, milliseconds per batch (median).
        var backwardMilliseconds: Double
        /// Adam step, milliseconds per batch (median).
        var optimizerMilliseconds: Double
        /// Batch ÷ the sum of the three medians (as the PyTorch yardstick computes it).
        var imagesPerSecond: Double
        /// The process's peak resident set after this configuration, MiB (configurations run from
        /// smallest to largest, so this bounds the configuration's own peak; run one configuration
        /// per process, e.g. `--layer birealnet34 --batch 32 --threads 2`, for its own figure).
        var peakResidentMiB: Double
        /// The most tensor storage live at once during this configuration's steps, MiB (the
        /// ``TensorAllocator`` counter: activations kept for backward, gradients, parameters, state).
        var peakTensorMiB: Double
        /// Freed tensor blocks cached for reuse at the end of this configuration, MiB.
        var cachedTensorMiB: Double
        /// Float operations of one training step per image, GFLOP (a multiply-add counts 2): the
        /// forward pass's float layers, the input and weight gradients of every convolution and dense
        /// layer.
        var floatGFLOPPerImage: Double
        /// The step's limit (its float operations at the in-run peak of each pass's precision, its
        /// binary forward multiply-adds at the in-run popcount peak) over the measured step, percent.
        var percentOfLimit: Double
    }

    /// One measured network: its name, how to build it (seeded), its classes, input size and batches.
    struct Network {
        var name: String
        var classes: Int
        var size: Int
        var batches: [Int]
        var make: () -> any TensorLayer
    }

    /// The models measured: the small-image Bi-Real Net 18, Bi-Real Net 34 and ReActNet-A at 224.
    static func models(quick: Bool) -> [Network] {
        [Network(name: "birealnet18-small@32", classes: 10, size: 32, batches: [64]) {
            BiRealNet(.birealnet18(classes: 10, stem: .small))
         },
         Network(name: "birealnet34@224", classes: 1000, size: 224, batches: quick ? [16] : [16, 32]) {
            BiRealNet(.birealnet34(classes: 1000))
         },
         Network(name: "reactnet-a@224", classes: 1000, size: 224, batches: [16]) {
            ReActNet.model(.reactNetA(classes: 1000))
         }]
    }

    let threads: [Int]
    let quick: Bool
    /// Operand precisions to measure (bf16 is skipped with a note where the CPU lacks it).
    var precisions: [PrecisionPolicy] = [.fp32]
    /// Only models whose name contains this text.
    var modelFilter: String?
    /// Batch sizes to measure instead of each model's own.
    var batches: [Int]?

    /// Measures every model, batch and thread count.
    func run(progress: (String) -> Void) -> [Row] {
        var rows: [Row] = []
        let granted = precisions.filter { precision in
            guard let reason = PrecisionPolicy.granted(precision).reason else { return true }
            progress("bnn-bench: bf16 not measured: \(reason)")
            return false
        }
        let peaks = Dictionary(uniqueKeysWithValues: threads.map { ($0, PeakProbes.measure(threads: $0, seconds: 0.2)) })
        let binaryKernel = String(cString: bnn_binary_kernel_name())
        for network in Self.models(quick: quick) where modelFilter.map({ network.name.contains($0) }) ?? true {
            let (name, size, modelBatches) = (network.name, network.size, network.batches)
            let model = Initializer.withSeed(1) { network.make() }
            let summary = ModelSummary(model, inputShape: [1, size, size, 3])
            // Per image: forward float MACs, backward MACs (two products per layer, all in float).
            let (forwardMACs, backwardMACs) = (Double(summary.realMACs), 2 * Double(summary.realMACs + summary.binaryMACs))
            let optimizer = Adam(ParameterGroups(model.namedParameters()), learningRate: 1e-4)
            let loss = SoftmaxCrossEntropy()
            for batch in batches ?? modelBatches {
                var g = SeededGenerator(seed: 2)
                let images = Tensor(randomNormal: [batch, size, size, 3], generator: &g)
                let labels = (0..<batch).map { $0 % network.classes }
                for threadCount in threads {
                    for precision in granted {
                        Parallel.threadCount = threadCount
                        model.setPrecision(precision)
                        progress("bnn-bench: training \(name), batch \(batch), \(threadCount) thread(s), \(precision)…")
                        TensorAllocator.shared.resetPeak()
                        var forward: [Double] = [], backward: [Double] = [], step: [Double] = []
                        let repetitions = quick ? 2 : 4
                        for run in 0...repetitions {   // run 0 warms up
                            model.zeroGradients()
                            let t0 = BenchClock.now()
                            let logits = model.forward(images, mode: .training)
                            let t1 = BenchClock.now()
                            _ = model.backward(loss(logits, labels: labels).gradient)
                            let t2 = BenchClock.now()
                            optimizer.step()
                            let t3 = BenchClock.now()
                            if run > 0 {
                                forward.append(t1 - t0)
                                backward.append(t2 - t1)
                                step.append(t3 - t2)
                            }
                        }
                        // Medians, as the PyTorch yardstick reports (tools/reference/pytorch_train_speed.py).
                        let (f, b, o) = (Self.median(forward), Self.median(backward), Self.median(step))
                        let memory = TensorAllocator.shared.statistics
                        let label = precision == .fp32 ? "fp32" : precision == .bf16 ? "O2" : "O1"
                        let peak = peaks[threadCount]!
                        func floatPeak(_ p: ComputePrecision) -> Double {
                            p == .bf16 ? peak.bf16Dot512FlopsPerSecond : peak.fmaFlopsPerSecond
                        }
                        let limit = Double(batch) * (2 * forwardMACs / floatPeak(precision.forward)
                            + 2 * backwardMACs / floatPeak(precision.backward)
                            + Double(summary.binaryMACs) / peak.popcountBitsPerSecond(forKernel: binaryKernel))
                        rows.append(Row(model: name, batch: batch, threads: threadCount, precision: label,
                                        forwardMilliseconds: f * 1e3, backwardMilliseconds: b * 1e3,
                                        optimizerMilliseconds: o * 1e3, imagesPerSecond: Double(batch) / (f + b + o),
                                        peakResidentMiB: Self.peakResidentMiB(),
                                        peakTensorMiB: Double(memory.peakBytesInUse) / 1_048_576,
                                        cachedTensorMiB: Double(memory.bytesCached) / 1_048_576,
                                        floatGFLOPPerImage: 2 * (forwardMACs + backwardMACs) / 1e9,
                                        percentOfLimit: 100 * limit / (f + b + o)))
                    }
                }
            }
        }
        return rows
    }

    /// The median of `values` (the mean of the middle two for an even count).
    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// The process's peak resident set size in MiB (`getrusage`, kilobytes on Linux).
    static func peakResidentMiB() -> Double {
        var usage = rusage()
        #if os(Linux)
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_maxrss) / 1024
        #else
        getrusage(RUSAGE_SELF, &usage)
        return Double(usage.ru_maxrss) / 1_048_576
        #endif
    }

    /// The rows as a readable table.
    static func table(_ rows: [Row]) -> String {
        var lines = ["Training throughput (medians of the timed steps; Adam); % limit = the step's float operations at "
                        + "the in-run peak of each pass's precision plus its binary forward at the popcount peak, over the step",
                     "model                  batch thr prec  forward ms  backward ms  optim ms   images/s  peak RSS MiB  "
                        + "peak tensors MiB  cached MiB  GFLOP/img  % limit"]
        for r in rows {
            lines.append(String(format: "%-22@ %5d %3d %4@ %11.1f %12.1f %9.1f %10.1f %13.0f %17.0f %11.0f %10.2f %8.0f",
                                r.model as NSString, r.batch, r.threads, r.precision as NSString, r.forwardMilliseconds,
                                r.backwardMilliseconds, r.optimizerMilliseconds, r.imagesPerSecond, r.peakResidentMiB,
                                r.peakTensorMiB, r.cachedTensorMiB, r.floatGFLOPPerImage, r.percentOfLimit))
        }
        return lines.joined(separator: "\n")
    }
}
