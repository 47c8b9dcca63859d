// birealnet-export: freeze a trained Bi-Real Net checkpoint into a packed model file for birealnet-infer
// and BNNInference (1-bit weights, BatchNorms folded, class names and input size stored).
//
//   birealnet-export --arch birealnet34 --weights ckpt.safetensors --class-folder imagenet/train --output bnn34.bnnpack
import BiRealNet
import BNN
import BNNData
import BNNInference
import BNNProgramSupport
import Foundation

let options: [CommandLineArguments.Option] = [
    .init("arch", help: "birealnet18 or birealnet34 (default birealnet18)"),
    .init("num-classes", help: "classes of the classifier (default 1000, or the number of class names given)"),
    .init("stem", help: "imagenet (224-pixel input, default) or small (28–64 pixels)"),
    .init("variant", help: "reference (default) or paper"),
    .init("weights", help: "float safetensors checkpoint with PyTorch state_dict names"),
    .init("output", help: "the packed model file to write (e.g. model.bnnpack)"),
    .init("class-names", help: "text file with one class name per line, in label order"),
    .init("class-folder", help: "image-folder split whose sorted class folders are the classes (e.g. DIR/train)"),
    .init("image-size", help: "input size in pixels the model will accept (default 224, small stem 32)"),
    .init("help", takesValue: false, help: "show this help"),
]

runCommand {
    let arguments = try CommandLineArguments(Array(CommandLine.arguments.dropFirst()), options: options)
    if arguments.has("help") {
        print(arguments.usage(program: "birealnet-export", summary: "Writes a packed, fused inference model from a checkpoint."))
        return
    }
    var names: [String]?
    if let path = arguments.string("class-names") {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw CommandLineError("--class-names \(path): \(error.localizedDescription)")
        }
        names = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    } else if let folder = arguments.string("class-folder") {
        let url = URL(fileURLWithPath: folder)
        names = try ImageFolder(root: url.deletingLastPathComponent().path, split: url.lastPathComponent).classes
    }
    let arch = try arguments.choice("arch", BiRealNetConfiguration.architectureNames, default: "birealnet18")
    let classes = try arguments.integer("num-classes", default: names?.count ?? 1000, in: 1...1_000_000)
    let stem = try arguments.choice("stem", default: BiRealNetConfiguration.Stem.imagenet)
    let variant = try arguments.choice("variant", default: BiRealNetConfiguration.Variant.reference)
    let size = try arguments.integer("image-size", default: stem == .imagenet ? 224 : 32, in: 1...4096)
    guard let configuration = BiRealNetConfiguration.named(arch, classes: classes, stem: stem, variant: variant) else {
        throw CommandLineError("--arch: unknown architecture '\(arch)'")
    }
    let weights = URL(fileURLWithPath: try arguments.required("weights"))
    let output = URL(fileURLWithPath: try arguments.required("output"))
    let model = BiRealNet(configuration)
    try model.loadWeights(from: weights)
    let result = try BiRealNetExport.export(model, classNames: names, inputHeight: size, inputWidth: size)
    try result.model.write(to: output)
    let packedBytes = (try FileManager.default.attributesOfItem(atPath: output.path)[.size] as? NSNumber)?.intValue ?? 0
    let floatBytes = (try FileManager.default.attributesOfItem(atPath: weights.path)[.size] as? NSNumber)?.intValue ?? 0
    print(String(format: "wrote %@: %.2f MB (checkpoint %.2f MB, %.1f× smaller), %d classes, input %d×%d",
                 output.path, Double(packedBytes) / 1e6, Double(floatBytes) / 1e6,
                 Double(floatBytes) / Double(max(1, packedBytes)), classes, size, size))
    if result.zeroWeights > 0 {
        print("warning: \(result.zeroWeights) binary weights were exactly 0 (sign 0 in the float model) and were packed as +1")
    }
}
