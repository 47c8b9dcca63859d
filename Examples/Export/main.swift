// birealnet-export: freeze a trained checkpoint into a packed model file for birealnet-infer and
// BNNInference (1-bit weights, BatchNorms folded, class names, input size and evaluation crop stored).
// The architecture, class names and evaluation settings come from the checkpoint's own metadata
// (birealnet-train writes them); flags override them, and are needed for checkpoints from elsewhere
// (e.g. PyTorch).
//
//   birealnet-export --weights runs/x/best.safetensors --output model.bnnpack
//   birealnet-export --arch birealnet34 --weights ckpt.safetensors --class-folder imagenet/train --output bnn34.bnnpack
//   birealnet-export --weights runs/x/best.safetensors --float-precision bf16 --output model-bf16.bnnpack
import BNN
import BNNData
import BNNInference
import BNNProgramSupport
import Foundation

let options: [CommandLineArguments.Option] = [
    .init("weights", help: "float safetensors checkpoint with PyTorch state_dict names"),
    .init("output", help: "the packed model file to write (e.g. model.bnnpack)"),
    .init("class-names", help: "text file with one class name per line, in label order (default: the checkpoint's own)"),
    .init("class-folder", help: "image-folder split whose sorted class folders are the classes (e.g. DIR/train)"),
    .init("image-size", help: "input size in pixels the model will accept (default: the checkpoint's training size, "
          + "else 224, small stem 32)"),
    .init("float-precision", help: "fp32 (default) or bf16: the float layers (stem, shortcuts, classifier) keep bfloat16 "
          + "weights, half their bytes, and run bfloat16 products on CPUs with bfloat16 instructions"),
    .init("float-precision-layers", help: "with --float-precision: only the float layers whose names contain one of these "
          + "comma-separated texts (e.g. fc: the classifier alone, which no binary layer follows)"),
] + ModelArchitecture.options + EvaluationSettings.options + [
    .init("help", takesValue: false, help: "show this help"),
]

runCommand {
    let arguments = try CommandLineArguments(Array(CommandLine.arguments.dropFirst()), options: options)
    if arguments.has("help") {
        print(arguments.usage(program: "birealnet-export", summary: "Writes a packed, fused inference model from a checkpoint."))
        return
    }
    try arguments.rejectPositional("birealnet-export takes only flags; see --help")
    try arguments.forbid("class-names", with: "class-folder", because: "give the class names one way")
    var names: [String]?
    if let path = arguments.string("class-names") {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw CommandLineError("--class-names \(path): \(FileErrorReason.describe(error, path: path))")
        }
        names = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    } else if let folder = arguments.string("class-folder") {
        let url = URL(fileURLWithPath: folder)
        names = try ImageFolder(root: url.deletingLastPathComponent().path, split: url.lastPathComponent).classes
    }
    let weights = URL(fileURLWithPath: try arguments.required("weights"))
    let output = URL(fileURLWithPath: try arguments.required("output"))
    let file = try SafeTensorsFile(contentsOf: weights)
    guard !(file.metadata["format"]?.hasPrefix("bnn-packed") ?? false) else {
        throw CommandLineError("--weights \(weights.path) is already a packed model; give the float checkpoint it came from")
    }
    let stored = try ModelArchitecture.stored(in: file.metadata, file: weights.path)
    var architecture = try ModelArchitecture.resolve(arguments, stored: stored?.architecture)
    if let names, !arguments.has("num-classes") {
        if stored != nil, names.count != architecture.classes {
            throw CommandLineError("\(names.count) class names given, but \(weights.path) has a \(architecture.classes)-class classifier")
        }
        architecture.classes = names.count
    }
    let storedNames = try ModelArchitecture.storedClassNames(in: file.metadata, file: weights.path)
    let classNames = names ?? storedNames.flatMap { $0.count == architecture.classes ? $0 : nil }
    if let classNames, classNames.count != architecture.classes {
        throw CommandLineError("\(classNames.count) class names for a \(architecture.classes)-class classifier (--num-classes)")
    }
    let floatPrecision = try arguments.choice("float-precision", default: ComputePrecision.fp32)
    let floatLayers = arguments.string("float-precision-layers").map { $0.split(separator: ",").map(String.init) }
    if floatLayers != nil, !arguments.has("float-precision") {
        throw CommandLineError("--float-precision-layers chooses the layers of --float-precision; give --float-precision too")
    }
    let size = try arguments.integer("image-size", in: 1...4096) ?? stored?.imageSize ?? (architecture.stem == .imagenet ? 224 : 32)
    let evaluation = try EvaluationSettings.resolve(arguments, stored: stored?.evaluation)
    let model = try architecture.makeModel(seed: 0).model
    if let note = try model.loadPyTorchWeights(from: Checkpoint(file: file)).note {
        FileHandle.standardError.write(Data("\(note)\n".utf8))
    }
    let packed: PackedModel
    do {
        packed = try PackedModel(exporting: model, inputHeight: size, inputWidth: size, classNames: classNames,
                                 architecture: architecture.summary, preprocessing: evaluation.entries,
                                 floatPrecision: floatPrecision, floatLayers: floatLayers)
    } catch let error as PlanError where error.step == "floatLayers" {
        throw CommandLineError("--float-precision-layers: \(error.reason)")
    }
    try packed.write(to: output)
    let packedBytes = (try FileManager.default.attributesOfItem(atPath: output.path)[.size] as? NSNumber)?.intValue ?? 0
    let floatBytes = (try FileManager.default.attributesOfItem(atPath: weights.path)[.size] as? NSNumber)?.intValue ?? 0
    print(String(format: "wrote %@: %@, %.2f MB (checkpoint %.2f MB, %.1f× smaller), %d classes, input %d×%d, evaluated with %@",
                 output.path, architecture.summary, Double(packedBytes) / 1e6, Double(floatBytes) / 1e6,
                 Double(floatBytes) / Double(max(1, packedBytes)), packed.classCount, size, size, evaluation.summary))
}
