import BiRealNet
import BNN
import BNNInference
import BNNProgramSupport
import Foundation

/// The network `birealnet-infer` runs: the packed engine or the float model, behind one interface.
enum InferenceModel {
    /// The packed, fused engine.
    case packed(InferenceEngine)
    /// The float model in evaluation mode (or training mode with `--mode train`).
    case float(BiRealNet, classNames: [String], inputSize: Int, mode: ForwardMode)

    /// The engines `--engine` accepts.
    enum Engine: String, CaseIterable {
        case packed, float
    }

    /// Loads the model `--weights` names: a packed model file (packed engine only), or a float
    /// checkpoint with `--arch/--num-classes/--stem/--variant`, run in float or exported on the fly
    /// for the packed engine. Without `--engine`, a packed file runs packed and a checkpoint in float.
    ///
    /// - Throws: `CommandLineError` for a float engine on a packed file or a bad flag, and the
    ///   checkpoint and packed-file errors of the libraries.
    /// - Parameter inputSize: the H×W of the input when it is known beforehand (a `.npy` batch): the
    ///   size a checkpoint is exported for when `--image-size` is not given.
    static func load(_ arguments: CommandLineArguments, mode: ForwardMode,
                     inputSize: (height: Int, width: Int)? = nil) throws -> InferenceModel {
        let url = URL(fileURLWithPath: try arguments.required("weights"))
        let file = try SafeTensorsFile(contentsOf: url)
        let isPacked = file.metadata["format"] == PackedModel.formatName
        let engine = try arguments.string("engine").map { text -> Engine in
            guard let engine = Engine(rawValue: text) else {
                throw CommandLineError("--engine must be packed or float, got '\(text)'")
            }
            return engine
        } ?? (isPacked ? .packed : .float)
        if isPacked {
            guard engine == .packed else {
                throw CommandLineError("--engine float: \(url.path) is a packed model; "
                                       + "pass the float checkpoint it was exported from")
            }
            return .packed(InferenceEngine(model: try PackedModel(file: file)))
        }
        let arch = try arguments.choice("arch", BiRealNetConfiguration.architectureNames, default: "birealnet18")
        let classes = try arguments.integer("num-classes", default: 1000, in: 1...1_000_000)
        let stem = try arguments.choice("stem", default: BiRealNetConfiguration.Stem.imagenet)
        let variant = try arguments.choice("variant", default: BiRealNetConfiguration.Variant.reference)
        guard let configuration = BiRealNetConfiguration.named(arch, classes: classes, stem: stem, variant: variant) else {
            throw CommandLineError("--arch: unknown architecture '\(arch)'")
        }
        let model = BiRealNet(configuration)
        try model.loadWeights(from: Checkpoint(file: file))
        let given = try arguments.integer("image-size", in: 1...4096)
        let size = given ?? (stem == .imagenet ? 224 : 32)
        let names = (0..<classes).map { "class\($0)" }
        switch engine {
        case .float:
            return .float(model, classNames: names, inputSize: size, mode: mode)
        case .packed:
            guard mode == .evaluation else { throw CommandLineError("--mode train needs --engine float") }
            let (height, width) = given.map { ($0, $0) } ?? inputSize ?? (size, size)
            return .packed(InferenceEngine(model: try BiRealNetExport.export(model, inputHeight: height, inputWidth: width).model))
        }
    }

    /// One name per class.
    var classNames: [String] {
        switch self {
        case .packed(let engine): return engine.model.classNames
        case .float(_, let names, _, _): return names
        }
    }

    /// The square image size the model takes (height = width).
    var inputSize: Int {
        switch self {
        case .packed(let engine): return engine.model.inputHeight
        case .float(_, _, let size, _): return size
        }
    }

    /// The engine's name.
    var engineName: String {
        switch self {
        case .packed: return "packed"
        case .float: return "float"
        }
    }

    /// N×classes logits of N×H×W×3 images.
    ///
    /// - Throws: `InferenceError` for images of the wrong size (packed engine), `CommandLineError`
    ///   for a float model given images that are not N×H×W×3.
    func logits(_ images: Tensor) throws -> Tensor {
        switch self {
        case .packed(let engine):
            return try engine.logits(for: images)
        case .float(let model, _, _, let mode):
            guard images.rank == 4, images.shape[3] == 3, images.shape.allSatisfy({ $0 > 0 }) else {
                throw CommandLineError("input must be N×H×W×3 images, found shape \(images.shape)")
            }
            return model.forward(images, mode: mode)
        }
    }
}
