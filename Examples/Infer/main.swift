// birealnet-infer: run a Bi-Real Net on NumPy input and write the logits, for scripts and parity checks.
import BiRealNet
import BNN
import CLISupport
import Foundation

let options: [CommandLineArguments.Option] = [
    .init("arch", help: "birealnet18 or birealnet34 (default birealnet18)"),
    .init("num-classes", help: "classes of the classifier (default 1000)"),
    .init("stem", help: "imagenet (224-pixel input, default) or small (28–64 pixels)"),
    .init("variant", help: "reference (default) or paper"),
    .init("weights", help: "safetensors checkpoint with PyTorch state_dict names"),
    .init("input", help: "float32 N×3×H×W .npy array, as NumPy/PyTorch write it"),
    .init("output", help: "where to write the float32 N×classes logits (.npy)"),
    .init("mode", help: "eval (default) or train: BatchNorm/activation mode of the forward pass"),
    .init("threads", help: "worker threads (default: all cores)"),
    .init("help", takesValue: false, help: "show this help"),
]

runCommand {
    let arguments = try CommandLineArguments(Array(CommandLine.arguments.dropFirst()), options: options)
    if arguments.has("help") {
        print(arguments.usage(program: "birealnet-infer", summary: "Runs Bi-Real Net on a .npy batch and writes its logits."))
        return
    }
    let arch = try arguments.choice("arch", BiRealNetConfiguration.architectureNames, default: "birealnet18")
    let classes = try arguments.integer("num-classes", default: 1000, in: 1...1_000_000)
    let stem = try arguments.choice("stem", default: BiRealNetConfiguration.Stem.imagenet)
    let variant = try arguments.choice("variant", default: BiRealNetConfiguration.Variant.reference)
    let mode: ForwardMode = try arguments.choice("mode", ["eval", "train"], default: "eval") == "train" ? .training : .evaluation
    if let threads = try arguments.integer("threads", in: 1...1024) { Parallel.threadCount = threads }
    let weights = URL(fileURLWithPath: try arguments.required("weights"))
    let inputURL = URL(fileURLWithPath: try arguments.required("input"))
    let outputURL = URL(fileURLWithPath: try arguments.required("output"))

    guard let configuration = BiRealNetConfiguration.named(arch, classes: classes, stem: stem, variant: variant) else {
        throw CommandLineError("--arch: unknown architecture '\(arch)'")
    }
    let model = BiRealNet(configuration)
    try model.loadWeights(from: weights)
    let input = try NumPyFile.read(inputURL)
    guard input.rank == 4, input.shape[1] == 3, input.shape[2] > 0, input.shape[3] > 0 else {
        throw CommandLineError("--input \(inputURL.path): expected a float32 N×3×H×W array, found shape \(input.shape)")
    }
    let logits = model.forward(Tensor.fromNCHW(input), mode: mode)
    try NumPyFile.write(logits, to: outputURL)
    print("wrote \(outputURL.path): logits \(logits.shape)")
}
