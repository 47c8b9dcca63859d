// birealnet-infer: run a network, packed (any .bnnpack) or float (a checkpoint), on images, an
// image-folder validation set, or a NumPy batch (logits out, for scripts and parity checks).
//
//   birealnet-infer --weights model.bnnpack photo.jpg folder/            top-5 table (--json for JSON)
//   birealnet-infer --weights model.bnnpack --evaluate imagenet/val      top-1 / top-5 and images per second
//   birealnet-infer --weights a.bnnpack --evaluate imagenet/val --compare b.bnnpack   how often b's top-1 class is a's
//   birealnet-infer --weights model.bnnpack --input x.npy --output logits.npy
//   birealnet-infer --weights runs/x/best.safetensors --engine packed|float …   (architecture from the checkpoint)
import BNN
import BNNData
import BNNProgramSupport
import Foundation

let options: [CommandLineArguments.Option] = [
    .init("weights", help: "a packed model (.bnnpack, from birealnet-export) or a float safetensors checkpoint"),
    .init("engine", help: "packed or float (default: packed for a packed model, float for a checkpoint; "
          + "packed on a checkpoint exports it on the fly)"),
    .init("image-size", help: "checkpoints: input size in pixels (default: the training size stored in the checkpoint, "
          + "else 224, small stem 32)"),
    .init("input", help: "float32 N×3×H×W .npy array, as NumPy/PyTorch write it"),
    .init("output", help: "where to write the float32 N×classes logits (.npy); with --input"),
    .init("mode", help: "eval (default) or train: BatchNorm/activation mode of the float forward pass"),
    .init("evaluate", help: "image-folder validation set (DIR/val/<class>/… or DIR/<class>/…): top-1/top-5, images/s"),
    .init("compare", help: "with --evaluate: a second model (loaded as --weights is, with the same flags) run on the same "
          + "images; prints how often its top-1 class is the first model's, and its top-1/top-5. It must have as many "
          + "classes, and store the first model's input size and evaluation settings, or none"),
    .init("predictions", help: "with --evaluate: write each image's label and top-1 class as CSV (label,predicted), "
          + "in folder order, with --compare the second model's top-1 class too (label,predicted,compared)"),
    .init("top", help: "classes listed per image (default 5)"),
    .init("batch", help: "images per batch (default 16)"),
    .init("json", takesValue: false, help: "print JSON instead of tables"),
    .init("strict", takesValue: false, help: "stop at the first unreadable image instead of reporting it and going on"),
    .init("threads", help: "worker threads of the network (default: all cores)"),
    .init("loader-threads", help: "image decoding threads (default 2)"),
] + ModelArchitecture.options + EvaluationSettings.options + [
    .init("help", takesValue: false, help: "show this help"),
]

/// Prints `value` as pretty JSON.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// Reports unreadable images that were skipped (without --strict) on standard error.
func warnSkipped(_ count: Int, _ what: String) {
    let text = "warning: \(count) unreadable image(s) \(what) (see the warnings above; --strict stops instead)\n"
    FileHandle.standardError.write(Data(text.utf8))
}

runCommand {
    let arguments = try CommandLineArguments(Array(CommandLine.arguments.dropFirst()), options: options)
    if arguments.has("help") {
        print(arguments.usage(program: "birealnet-infer [IMAGE|FOLDER…]",
                              summary: "Classifies images, evaluates a validation folder, or maps a .npy batch to logits."))
        return
    }
    let mode: ForwardMode = try arguments.choice("mode", ["eval", "train"], default: "eval") == "train" ? .training : .evaluation
    if let threads = try arguments.integer("threads", in: 1...1024) { Parallel.threadCount = threads }
    let batchSize = try arguments.integer("batch", default: 16, in: 1...4096)
    let loaderThreads = try arguments.integer("loader-threads", default: 2, in: 1...256)
    let json = arguments.has("json")
    let strict = arguments.has("strict")
    try arguments.require("input", for: "output")
    try arguments.forbid("input", with: "evaluate", because: "give one job at a time")
    try arguments.forbid("input", with: "crop-pct", because: "a .npy batch is used as it is, not resized and cropped")
    if arguments.has("predictions"), !arguments.has("evaluate") {
        throw CommandLineError("--predictions writes the results of --evaluate DIR; give --evaluate too")
    }
    if arguments.has("compare"), !arguments.has("evaluate") {
        throw CommandLineError("--compare runs a second model on the images of --evaluate DIR; give --evaluate too")
    }
    if arguments.has("input") || arguments.has("evaluate") {
        try arguments.rejectPositional("image arguments are not read with --input or --evaluate")
    }

    if let inputPath = arguments.string("input") {
        let outputURL = URL(fileURLWithPath: try arguments.required("output"))
        let input = try NumPyFile.read(URL(fileURLWithPath: inputPath))
        guard input.rank == 4, input.shape[1] == 3, input.shape[2] > 0, input.shape[3] > 0 else {
            throw CommandLineError("--input \(inputPath): expected a float32 N×3×H×W array, found shape \(input.shape)")
        }
        let model = try InferenceModel.load(arguments, mode: mode, inputSize: (input.shape[2], input.shape[3]))
        if model.engineName == "packed", input.shape[2] != model.inputSize || input.shape[3] != model.inputSize {
            throw CommandLineError("--input \(inputPath): the packed model takes N×3×\(model.inputSize)×\(model.inputSize) "
                                   + "arrays, found \(input.shape.map(String.init).joined(separator: "×"))")
        }
        // --batch images at a time, so the network's memory does not grow with N.
        let (count, imageFloats) = (input.shape[0], input.shape[1] * input.shape[2] * input.shape[3])
        var logits: [Float] = [], classes = 0
        let inputScalars = input.scalars  // one copy: `scalars` copies the whole tensor on every read
        for start in stride(from: 0, to: count, by: batchSize) {
            let rows = min(batchSize, count - start)
            let chunk = Tensor(shape: [rows] + input.shape.dropFirst(),
                               scalars: Array(inputScalars[(start * imageFloats)..<((start + rows) * imageFloats)]))
            let part = try model.logits(Tensor.fromNCHW(chunk))
            classes = part.shape[1]
            logits += part.scalars
        }
        let output = Tensor(shape: [count, classes], scalars: logits)
        try NumPyFile.write(output, to: outputURL)
        print("wrote \(outputURL.path): logits \(output.shape) (\(model.engineName) engine, batches of \(batchSize))")
        return
    }
    let model = try InferenceModel.load(arguments, mode: mode)
    if let folder = arguments.string("evaluate") {
        let predictionsPath = arguments.string("predictions")
        let compared = try arguments.string("compare").map {
            (model: try InferenceModel.load(arguments, mode: mode, comparedWith: model), path: $0)
        }
        let result = try Evaluation.run(model, comparedWith: compared, folder: folder, batchSize: batchSize,
                                        loaderThreads: loaderThreads, strict: strict,
                                        recordsPredictions: predictionsPath != nil) { partial in
            if !json {
                FileHandle.standardError.write(Data(String(format: "\r%d images, top-1 %.2f%%", partial.images,
                                                           100 * partial.top1).utf8))
            }
        }
        if json {
            struct Output: Encodable {
                var engine: String, cropFraction: Double, resizeFilter: String
                var images: Int, skippedImages: Int, top1: Double, top5: Double
                var modelImagesPerSecond: Double, wallImagesPerSecond: Double
                var comparison: Agreement?
            }
            try printJSON(Output(engine: model.engineName, cropFraction: model.evaluation.cropFraction,
                                 resizeFilter: model.evaluation.filter.rawValue,
                                 images: result.images, skippedImages: result.skippedImages,
                                 top1: result.top1, top5: result.top5,
                                 modelImagesPerSecond: result.modelImagesPerSecond,
                                 wallImagesPerSecond: result.wallImagesPerSecond,
                                 comparison: result.comparison))
        } else {
            FileHandle.standardError.write(Data("\n".utf8))
            print(String(format: "%@ engine (%@): %d images, top-1 %.2f%%, top-5 %.2f%%, %.1f images/s in the network, "
                         + "%.1f images/s with decoding", model.engineName, model.evaluation.summary, result.images, 100 * result.top1,
                         100 * result.top5, result.modelImagesPerSecond, result.wallImagesPerSecond))
            if let comparison = result.comparison { print(comparison.summary) }
        }
        if result.skippedImages > 0 { warnSkipped(result.skippedImages, "left out of the figures") }
        if let predictionsPath {
            let header = result.comparison == nil ? "label,predicted\n" : "label,predicted,compared\n"
            let text = header + result.predictions.map { p in
                "\(p.label),\(p.predicted)" + (p.compared.map { ",\($0)" } ?? "") + "\n"
            }.joined()
            do { try Data(text.utf8).write(to: URL(fileURLWithPath: predictionsPath), options: .atomic) } catch {
                throw ProgramExit(.failure, "--predictions \(predictionsPath): \(FileErrorReason.describe(error, path: predictionsPath))")
            }
        }
        return
    }
    guard !arguments.positional.isEmpty else {
        throw CommandLineError("nothing to do: give image files or folders, --evaluate DIR, or --input/--output (see --help)")
    }
    let top = try arguments.integer("top", default: 5, in: 1...1_000_000)
    let files = try ImageFiles(arguments.positional)
    let loader = try DataLoader(source: files, transform: model.transform,
                                configuration: DataLoaderConfiguration(batchSize: batchSize, shuffle: false, dropLast: false,
                                                                       threadCount: loaderThreads, strict: strict,
                                                                       dropsBadFiles: true))
    var results: [Classification] = []
    try loader.forEachBatch(epoch: 0) { batch in
        let logits = try model.logits(batch.images)
        let names = batch.sampleIndices.map { files.paths[$0] }
        let found = Classification.top(min(top, model.classNames.count), logits: logits, images: names,
                                       classNames: model.classNames)
        if !json { for c in found { print(c.table) } }
        results += found
    }
    if json { try printJSON(results) }
    let skipped = loader.skippedFileCount(epoch: 0)
    if skipped > 0 { warnSkipped(skipped, "of \(files.count) not classified") }
}
