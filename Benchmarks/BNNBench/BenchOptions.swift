import BNN

/// Command-line options of `bnn-bench`.
struct BenchOptions {
    /// The parts of the benchmark, chosen by the first argument (default `kernels`).
    enum Section: String, CaseIterable {
        /// Peak probes and the convolutions of Bi-Real Net 34, float vs binary.
        case kernels
        /// Whole-model latency of the packed inference engine vs float evaluation.
        case models
        /// Training throughput (forward, backward, optimizer) and peak memory of whole Bi-Real Nets.
        case training
        /// Peak probes and single precision vs bfloat16 GEMM on the product shapes of training.
        case gemm
        /// Decoded-and-augmented images per second of the data pipeline on a folder of JPEGs.
        case data
    }

    /// The section to run.
    var section = Section.kernels
    /// Short run: fewer repetitions and less time per measurement.
    var quick = false
    /// Print JSON instead of the readable table.
    var json = false
    /// Write a bar chart of float vs binary time per layer to this SVG file.
    var svgPath: String?
    /// Batch sizes to measure.
    var batches = [1, 16]
    /// Whether `--batch` was given (the training section then measures those batches instead of each
    /// model's own).
    var batchesGiven = false
    /// Thread counts to measure (default: 1 and all).
    var threads: [Int] = [1]
    /// Only layers whose name contains this text.
    var layerFilter: String?
    /// Skip the float convolution (binary kernels only).
    var skipFloat = false
    /// onnxruntime's float latencies in ms (batch 1, one thread) to compare with (`models`), by model:
    /// `resnet18`, `resnet34`, `mobilenet_v1` (from `tools/yardsticks/onnxruntime_models.py`).
    var onnxruntimeMilliseconds: [String: Double] = [:]
    /// The folder of JPEG files the `data` section decodes.
    var imagesDirectory: String?
    /// Operand precisions the `training` section measures.
    var precisions: [PrecisionPolicy] = [.fp32]
    /// Precisions of the float layers of the packed models the `models` section measures.
    var floatPrecisions: [ComputePrecision] = [.fp32]

    /// The usage text printed for `--help` and after an invalid option.
    static let usage = """
        usage: bnn-bench [kernels|models|training|gemm|data] [--quick] [--json] [--svg FILE] [--batch N[,N…]] [--threads N[,N…]]
                         [--layer TEXT] [--no-float] [--ort-MODEL-ms MS] [--images DIR] [--precision P[,P]]
                         [--float-precision P[,P]] [--help]
          kernels           peak probes and the convolutions of Bi-Real Net 34 (default)
          models            whole Bi-Real Net 18/34: packed engine vs float evaluation, per-step times
          training          training images/s (forward, backward, Adam) and peak memory, Bi-Real Net 34 at 224
                            (batch 16, 32), ReActNet-A at 224 (batch 16) and the small-image Bi-Real Net 18
                            at 32 (batch 64)
          gemm              fp32 vs bfloat16 GEMM on training's product shapes, % of each precision's peak
          data              decode + augment images/s on --images DIR (make files with
                            tools/fixtures/make_benchmark_jpegs.py)
          --quick           short run (fewer repetitions)
          --json            machine-readable output on stdout
          --svg FILE        bar chart of float vs binary convolution time per layer
          --batch 1,16      batch sizes (default 1,16; models: 1,8; training: each model's own)
          --threads 1,2     thread counts (default 1 and all cores)
          --layer TEXT      only layers (models, training: models) whose name contains TEXT (e.g. 3x3, stem, 56; birealnet34)
          --no-float        skip the float convolution (models: the float evaluation)
          --ort-resnet18-ms, --ort-resnet34-ms, --ort-mobilenet-v1-ms MS  onnxruntime float latency
                            (batch 1, one thread) to compare with (models)
          --images DIR      folder of JPEG files (data)
          --precision fp32,bf16,bf16-o2  precision policies of the training section (default fp32;
                            bf16 = bfloat16 backward passes (O1), bf16-o2 = forward too)
          --float-precision fp32,bf16  precision of the packed models' float layers (models; default fp32;
                            bf16 rows are named MODEL+bf16)
        """

    /// Parses `arguments` (without the program name).
    ///
    /// - Throws: ``BenchOptionsError`` naming the flag and what it expected.
    static func parse(_ arguments: [String], allThreads: Int) throws -> BenchOptions {
        var options = BenchOptions()
        options.threads = allThreads > 1 ? [1, allThreads] : [1]
        var rest = arguments[...]
        if let first = rest.first, let section = Section(rawValue: first) {
            options.section = section
            rest.removeFirst()
            if section == .models { options.batches = [1, 8] }
        }
        func value(for flag: String) throws -> String {
            guard let next = rest.popFirst() else { throw BenchOptionsError.missingValue(flag: flag) }
            return next
        }
        func counts(for flag: String) throws -> [Int] {
            let text = try value(for: flag)
            let numbers = text.split(separator: ",").map { Int($0) }
            guard !numbers.isEmpty, numbers.allSatisfy({ ($0 ?? 0) > 0 }) else {
                throw BenchOptionsError.invalidValue(flag: flag, expected: "positive integers separated by commas",
                                                     found: text)
            }
            return numbers.map { $0! }
        }
        while let argument = rest.popFirst() {
            switch argument {
            case "--quick": options.quick = true
            case "--json": options.json = true
            case "--svg": options.svgPath = try value(for: argument)
            case "--batch":
                options.batches = try counts(for: argument)
                options.batchesGiven = true
            case "--threads": options.threads = try counts(for: argument)
            case "--layer": options.layerFilter = try value(for: argument)
            case "--no-float": options.skipFloat = true
            case "--images": options.imagesDirectory = try value(for: argument)
            case "--precision":
                let text = try value(for: argument)
                let precisions = text.split(separator: ",").map { PrecisionPolicy(name: String($0)) }
                guard !precisions.isEmpty, precisions.allSatisfy({ $0 != nil }) else {
                    throw BenchOptionsError.invalidValue(flag: argument, expected: "fp32, bf16 (O1) or bf16-o2, separated by commas",
                                                         found: text)
                }
                options.precisions = precisions.compactMap { $0 }
            case "--float-precision":
                let text = try value(for: argument)
                let precisions = text.split(separator: ",").map { ComputePrecision(rawValue: String($0)) }
                guard !precisions.isEmpty, precisions.allSatisfy({ $0 != nil }) else {
                    throw BenchOptionsError.invalidValue(flag: argument, expected: "fp32 or bf16, separated by commas", found: text)
                }
                options.floatPrecisions = precisions.compactMap { $0 }
            case "--ort-resnet18-ms", "--ort-resnet34-ms", "--ort-mobilenet-v1-ms":
                let text = try value(for: argument)
                guard let ms = Double(text), ms > 0 else {
                    throw BenchOptionsError.invalidValue(flag: argument, expected: "a positive number of milliseconds", found: text)
                }
                let model = argument.dropFirst("--ort-".count).dropLast("-ms".count).replacingOccurrences(of: "-", with: "_")
                options.onnxruntimeMilliseconds[model] = ms
            case "--help", "-h": throw BenchOptionsError.helpRequested
            default: throw BenchOptionsError.unknownFlag(argument)
            }
        }
        return options
    }
}

/// A command-line error of `bnn-bench`.
enum BenchOptionsError: Error, CustomStringConvertible {
    case unknownFlag(String)
    case missingValue(flag: String)
    case invalidValue(flag: String, expected: String, found: String)
    case helpRequested

    var description: String {
        switch self {
        case let .unknownFlag(flag): return "bnn-bench: unknown option '\(flag)'"
        case let .missingValue(flag): return "bnn-bench: option \(flag) needs a value"
        case let .invalidValue(flag, expected, found): return "bnn-bench: \(flag) expects \(expected), found '\(found)'"
        case .helpRequested: return ""
        }
    }
}
