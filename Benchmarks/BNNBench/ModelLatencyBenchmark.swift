import BiRealNet
import BNN
import BNNInference
import BNNKernels
import Foundation
import ReActNet

/// `bnn-bench models`: whole-model latency of Bi-Real Net 18 and 34 and ReActNet-A at 224×224 and of
/// a VGG-style BinaryNet at 32×32, the packed engine (``InferenceEngine``) against the same network
/// evaluated in float (`forward` in evaluation mode), with the packed engine's time per step, each
/// network's bit-MACs and the share of the in-run XOR-popcount peak its binary layers reach, and the
/// exported file sizes.
///
/// Weights are random (seeded): timing does not depend on their values.
struct ModelLatencyBenchmark {
    /// A network of the benchmark.
    struct Network {
        var name: String
        var inputSize: Int
        var make: () -> any TensorLayer
    }

    /// Bi-Real Net 18 and 34, ReActNet-A (1000 classes, 224 pixels) and BinaryNet (10 classes, 32 pixels).
    static let networks: [Network] = [
        Network(name: "birealnet18", inputSize: 224) { BiRealNet(.birealnet18(classes: 1000)) },
        Network(name: "birealnet34", inputSize: 224) { BiRealNet(.birealnet34(classes: 1000)) },
        Network(name: "reactnet-a", inputSize: 224) { ReActNet.model(.reactNetA(classes: 1000)) },
        Network(name: "binarynet-vgg", inputSize: 32) { binaryNet() },
    ]

    /// Courbariaux et al.'s BinaryNet for 32×32 images (a VGG-style net, no residuals): float first
    /// convolution, five binary 3×3 convolutions with max-pools, two binary dense layers, float classifier.
    static func binaryNet() -> Sequential {
        Sequential {
            Conv2D(inputChannels: 3, outputChannels: 128, kernelSize: 3, padding: 1)
            BatchNorm2D(channels: 128)
            HardTanh()
            for (input, output, pools) in [(128, 128, true), (128, 256, false), (256, 256, true), (256, 512, false), (512, 512, true)] {
                BinaryConv2D(inputChannels: input, outputChannels: output)
                if pools { MaxPool2D(kernelSize: 2) }
                BatchNorm2D(channels: output)
                HardTanh()
            }
            Flatten()
            BinaryLinear(inputFeatures: 512 * 4 * 4, outputFeatures: 1024)
            BatchNorm2D(channels: 1024)
            HardTanh()
            BinaryLinear(inputFeatures: 1024, outputFeatures: 1024)
            BatchNorm2D(channels: 1024)
            HardTanh()
            Linear(inputFeatures: 1024, outputFeatures: 10)
        }
    }

    /// One model at one batch size and thread count.
    struct Row: Codable {
        var model: String
        var batch: Int
        var threads: Int
        /// Bit-MACs of the binary layers per image.
        var binaryMACs: Int
        /// Multiply-adds of the float layers per image.
        var floatMACs: Int
        /// The in-run XOR-popcount peak of the selected binary kernel's instructions, bits per second.
        var popcountPeakBitsPerSecond: Double
        /// The in-run FMA peak, float operations per second (an FMA counts 2).
        var fmaPeakFlopsPerSecond: Double
        /// The time the network's MACs take at the in-run peaks: bit-MACs at the popcount peak plus
        /// float MACs at the FMA peak.
        var rooflineSeconds: Double {
            Double(batch) * (Double(binaryMACs) / popcountPeakBitsPerSecond + 2 * Double(floatMACs) / fmaPeakFlopsPerSecond)
        }
        /// Seconds of the binary layers in the fastest profiled steps.
        var binarySeconds: Double {
            steps.filter { $0.kind == InferenceProfile.Kind.binaryConvolution.rawValue }.reduce(0) { $0 + $1.seconds }
        }
        /// Bit-MACs per second of the binary layers over the popcount peak.
        var fractionOfPopcountPeak: Double {
            popcountPeakBitsPerSecond > 0 && binarySeconds > 0
                ? Double(binaryMACs * batch) / binarySeconds / popcountPeakBitsPerSecond : 0
        }
        /// Fastest packed-engine run, seconds.
        var packedSeconds: Double
        /// Fastest float evaluation, seconds (nil with `--no-float`).
        var floatSeconds: Double?
        /// Seconds per step of the packed engine, the fastest of the profiled runs, in execution order.
        var steps: [Step]
        /// Float time / packed time.
        var speedUp: Double? { floatSeconds.map { $0 / packedSeconds } }
    }

    /// One step of the packed engine.
    struct Step: Codable {
        var name: String
        var kind: String
        var macs: Int
        var seconds: Double
    }

    /// File sizes of one model.
    struct Sizes: Codable {
        var model: String
        var packedFileBytes: Int
        var floatCheckpointBytes: Int
    }

    /// Everything measured, printable as a table or JSON.
    struct Report: Codable {
        var binaryKernel: String
        var rows: [Row]
        var sizes: [Sizes]
        /// onnxruntime float milliseconds by model given with `--ort-MODEL-ms`.
        var onnxruntimeMilliseconds: [String: Double]
        /// Larq Compute Engine's Bi-Real Net 18 latency quoted in the brief (fastest x86 kernels).
        var larqComputeEngineBiRealNet18Milliseconds = 38.0
    }

    var options: BenchOptions

    /// Measures every model, batch and thread count of the options.
    func run(progress: (String) -> Void) throws -> Report {
        var rows: [Row] = []
        var sizes: [Sizes] = []
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bnn-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let kernel = String(cString: bnn_binary_kernel_name())
        for network in Self.networks where options.layerFilter.map(network.name.contains) ?? true {
            let model = Initializer.withSeed(1) { network.make() }
            for floatPrecision in options.floatPrecisions {
                let size = network.inputSize
                let name = network.name + (floatPrecision == .fp32 ? "" : "+\(floatPrecision)")
                let packedModel = try PackedModel(exporting: model, inputHeight: size, inputWidth: size, architecture: network.name,
                                                  floatPrecision: floatPrecision)
                let packedURL = folder.appendingPathComponent("\(name).bnnpack")
                let floatURL = folder.appendingPathComponent("\(network.name).safetensors")
                try packedModel.write(to: packedURL)
                try Checkpoint.save(model, to: floatURL)
                sizes.append(Sizes(model: name, packedFileBytes: try fileSize(packedURL),
                                   floatCheckpointBytes: try fileSize(floatURL)))
                let engine = try InferenceEngine(contentsOf: packedURL)
                for threads in options.threads {
                    Parallel.threadCount = threads
                    let peak = PeakProbes.measure(threads: threads, seconds: options.quick ? 0.05 : 0.2)
                    for batch in options.batches {
                        var generator = SeededGenerator(seed: 5)
                        let images = Tensor(randomNormal: [batch, size, size, 3], generator: &generator)
                        let packed = try fastest(runs: options.quick ? 3 : 20, seconds: options.quick ? 0.3 : 2) {
                            _ = try engine.logits(for: images)
                        }
                        // Per step, the fastest of several profiled runs (the least disturbed on a shared machine).
                        var steps: [Step] = []
                        for _ in 0..<(options.quick ? 5 : 20) {
                            var profile = InferenceProfile()
                            _ = try engine.logits(for: images, profile: &profile)
                            if steps.isEmpty {
                                steps = profile.steps.map {
                                    Step(name: $0.name, kind: $0.kind.rawValue, macs: $0.macs, seconds: $0.seconds)
                                }
                            } else {
                                for (i, step) in profile.steps.enumerated() { steps[i].seconds = min(steps[i].seconds, step.seconds) }
                            }
                        }
                        var floatSeconds: Double?
                        if !options.skipFloat {
                            floatSeconds = try fastest(runs: options.quick ? 1 : 3, seconds: options.quick ? 0.1 : 1) {
                                _ = model.forward(images, mode: .evaluation)
                            }
                        }
                        func macs(_ kind: InferenceProfile.Kind) -> Int {
                            steps.filter { $0.kind == kind.rawValue }.reduce(0) { $0 + $1.macs } / batch
                        }
                        let row = Row(model: name, batch: batch, threads: threads,
                                      binaryMACs: macs(.binaryConvolution), floatMACs: macs(.floatConvolution),
                                      popcountPeakBitsPerSecond: peak.popcountBitsPerSecond(forKernel: kernel),
                                      fmaPeakFlopsPerSecond: peak.fmaFlopsPerSecond,
                                      packedSeconds: packed, floatSeconds: floatSeconds, steps: steps)
                        progress(String(format: "bnn-bench: %@ N=%d threads=%d packed %.2f ms", name, batch, threads, packed * 1e3)
                                 + (floatSeconds.map { String(format: ", float %.1f ms", $0 * 1e3) } ?? ""))
                        rows.append(row)
                    }
                }
            }
        }
        return Report(binaryKernel: kernel, rows: rows, sizes: sizes,
                      onnxruntimeMilliseconds: options.onnxruntimeMilliseconds)
    }

    private func fileSize(_ url: URL) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.intValue ?? 0
    }

    /// The fastest of at least `runs` runs taking at least `seconds` in all, after one warm-up run.
    private func fastest(runs: Int, seconds: Double, _ body: () throws -> Void) throws -> Double {
        var failure: Error?
        let best = BenchClock.fastest(minimumRuns: runs, minimumSeconds: seconds) {
            do { try body() } catch { failure = error }
        }
        if let failure { throw failure }
        return best
    }
}

extension ModelLatencyBenchmark.Report {
    /// Latency table, targets, file sizes and the per-step breakdown of the packed engine.
    func table() -> String {
        var lines = ["bnn-bench models: whole-model latency (fastest run), packed engine (binary kernel "
                     + "\(binaryKernel)) vs the same network evaluated in float; bit-MACs and float MACs per image; "
                     + "binary layers' share of the in-run XOR-popcount peak", ""]
        let widths = [18, 3, 4, 11, 10, 9, 13, 11, 10, 10]
        lines.append(pad(["model", "N", "thr", "packed ms", "float ms", "speed-up", "packed img/s", "bit-MACs G",
                          "float G", "% peak"], widths))
        for r in rows {
            lines.append(pad([r.model, "\(r.batch)", "\(r.threads)", f(r.packedSeconds * 1e3, 2),
                              r.floatSeconds.map { f($0 * 1e3, 1) } ?? "-", r.speedUp.map { f($0, 1) + "×" } ?? "-",
                              f(Double(r.batch) / r.packedSeconds, 1), f(Double(r.binaryMACs) / 1e9, 2),
                              f(Double(r.floatMACs) / 1e9, 3), f(100 * r.fractionOfPopcountPeak, 0)], widths))
        }
        lines.append("")
        lines.append("Targets (batch 1, one thread):")
        if let r = rows.first(where: { $0.model == "birealnet18" && $0.batch == 1 && $0.threads == 1 }) {
            lines.append(String(format: "  Bi-Real Net 18 vs Larq Compute Engine (%.0f ms): %.1f× faster (target ≥ 2×)",
                                larqComputeEngineBiRealNet18Milliseconds,
                                larqComputeEngineBiRealNet18Milliseconds / (r.packedSeconds * 1e3)))
        }
        if let r = rows.first(where: { $0.model == "birealnet34" && $0.batch == 1 && $0.threads == 1 }) {
            if let ort = onnxruntimeMilliseconds["resnet34"] {
                lines.append(String(format: "  Bi-Real Net 34 vs onnxruntime float ResNet-34 (%.1f ms): %.1f× faster (target ≥ 4×)",
                                    ort, ort / (r.packedSeconds * 1e3)))
            } else {
                lines.append("  Bi-Real Net 34 vs onnxruntime: pass --ort-resnet34-ms from tools/yardsticks/onnxruntime_models.py")
            }
        }
        if let r = rows.first(where: { $0.model == "reactnet-a" && $0.batch == 1 && $0.threads == 1 }) {
            lines.append(String(format: "  ReActNet-A vs its MACs at the in-run peaks (%.2f ms): %.2f× (target ≤ 1.5×)",
                                r.rooflineSeconds * 1e3, r.packedSeconds / r.rooflineSeconds))
            if let ort = onnxruntimeMilliseconds["resnet18"] {
                lines.append(String(format: "  ReActNet-A vs onnxruntime float ResNet-18 (%.1f ms): %.1f× faster (target ≥ 3×)",
                                    ort, ort / (r.packedSeconds * 1e3)))
            } else {
                lines.append("  ReActNet-A vs onnxruntime: pass --ort-resnet18-ms from tools/yardsticks/onnxruntime_models.py")
            }
            if let ort = onnxruntimeMilliseconds["mobilenet_v1"] {
                lines.append(String(format: "  onnxruntime float MobileNet-v1 beside it: %.1f ms (ReActNet-A %.2f ms)", ort, r.packedSeconds * 1e3))
            }
        }
        for r in rows where r.batch == 1 && r.threads == 1 {
            if let s = r.speedUp { lines.append("  \(r.model) packed vs float evaluation: \(f(s, 1))× faster (target ≥ 5×)") }
        }
        lines.append("")
        lines.append("Exported files")
        for s in sizes {
            lines.append(String(format: "  %@: packed %.2f MB, float checkpoint %.2f MB (%.1f× smaller)", s.model,
                                Double(s.packedFileBytes) / 1e6, Double(s.floatCheckpointBytes) / 1e6,
                                Double(s.floatCheckpointBytes) / Double(max(1, s.packedFileBytes))))
        }
        for r in rows where r.batch == 1 || r.batch == rows.map(\.batch).max() {
            lines.append("")
            lines.append("Packed engine steps: \(r.model), N=\(r.batch), \(r.threads) thread(s) (fastest of the "
                         + "profiled runs per step; binary GOP/s = 2·bit-MACs/s)")
            let stepWidths = [40, 9, 7, 10]
            lines.append(pad(["step", "ms", "%", "GOP/s"], stepWidths))
            let total = r.steps.reduce(0) { $0 + $1.seconds }
            for group in grouped(r.steps) {
                lines.append(pad([group.name, f(group.seconds * 1e3, 3), f(100 * group.seconds / total, 1),
                                  group.macs > 0 ? f(2 * Double(group.macs) / group.seconds / 1e9, 0) : "-"], stepWidths))
            }
            lines.append(pad(["total (sum of steps)", f(total * 1e3, 3), "100.0", ""], stepWidths))
        }
        return lines.joined(separator: "\n")
    }

    /// Consecutive steps of one stage and kind summed (`layer3 binaryConvolution ×12`); steps outside
    /// the stages (stem, head) kept apart.
    private func grouped(_ steps: [ModelLatencyBenchmark.Step]) -> [ModelLatencyBenchmark.Step] {
        var result: [ModelLatencyBenchmark.Step] = []
        var counts: [Int] = []
        for step in steps {
            let stage = step.name.split(separator: ".").first.map(String.init) ?? step.name
            let key = stage.hasPrefix("layer") || stage.hasPrefix("features") ? "\(stage) \(step.kind)" : step.name
            if let last = result.last, last.name == key {
                result[result.count - 1].seconds += step.seconds
                result[result.count - 1].macs += step.macs
                counts[counts.count - 1] += 1
            } else {
                result.append(ModelLatencyBenchmark.Step(name: key, kind: step.kind, macs: step.macs, seconds: step.seconds))
                counts.append(1)
            }
        }
        return zip(result, counts).map { step, count in
            var s = step
            if count > 1 { s.name += " ×\(count)" }
            return s
        }
    }

    /// Pretty-printed JSON.
    func json() throws -> String { try BenchFormatting.json(self) }

    private func pad(_ cells: [String], _ widths: [Int]) -> String {
        zip(cells, widths).enumerated().map { index, pair in
            let fill = String(repeating: " ", count: max(0, pair.1 - pair.0.count))
            return index == 0 ? pair.0 + fill : fill + pair.0
        }.joined(separator: " ")
    }

    private func f(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }
}
