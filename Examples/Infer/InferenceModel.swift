import BNN
import BNNData
import BNNInference
import BNNProgramSupport
import Foundation

/// The network `birealnet-infer` runs: the packed engine or the float model, behind one interface,
/// with the settings its images are prepared with.
enum InferenceModel {
    /// The packed, fused engine.
    case packed(InferenceEngine, evaluation: EvaluationSettings)
    /// The float model in evaluation mode (or training mode with `--mode train`).
    case float(any TensorLayer, classNames: [String], inputSize: Int, mode: ForwardMode, evaluation: EvaluationSettings)

    /// The engines `--engine` accepts.
    enum Engine: String, CaseIterable {
        case packed, float
    }

    /// Loads the model `--weights` names: a packed model file (packed engine only), or a float
    /// checkpoint whose architecture and class names come from its metadata (flags override), run
    /// in float or exported on the fly for the packed engine. Without `--engine`, a packed file runs
    /// packed and a checkpoint in float. The evaluation settings are the model's own (the defaults
    /// for a file that stores none), `--crop-pct` overriding the crop.
    ///
    /// - Throws: `CommandLineError` for a float engine on a packed file, a bad flag or malformed
    ///   evaluation settings in the file, and the checkpoint and packed-file errors of the libraries.
    /// - Parameter inputSize: the H×W of the input when it is known beforehand (a `.npy` batch): the
    ///   size a checkpoint is exported for when `--image-size` is not given.
    static func load(_ arguments: CommandLineArguments, mode: ForwardMode,
                     inputSize: (height: Int, width: Int)? = nil) throws -> InferenceModel {
        try load("weights", arguments, mode: mode, inputSize: inputSize, beside: nil)
    }

    /// Loads the model `--compare` names, to be evaluated beside `reference` (the `--weights` model) on
    /// the images prepared for `reference`: as ``load(_:mode:inputSize:)`` loads `--weights`, with the
    /// same flags, a checkpoint that stores no image size taking `reference`'s. The file must store
    /// the input size and evaluation settings `reference` is evaluated with, or none, so that the
    /// model scores what it would score evaluated alone.
    ///
    /// - Throws: the errors of ``load(_:mode:inputSize:)``; `ProgramExit` (failure) naming both files
    ///   when the models' class counts differ; `CommandLineError` naming both files and the setting
    ///   when the file stores another input size, crop fraction or resize filter.
    static func load(_ arguments: CommandLineArguments, mode: ForwardMode, comparedWith reference: InferenceModel) throws -> InferenceModel {
        try load("compare", arguments, mode: mode, inputSize: nil, beside: reference)
    }

    /// Loads the model `--<flag>` names; with `reference`, checks before building it that it can be
    /// evaluated on `reference`'s images (``admit(_:classes:inputSize:evaluation:beside:)``).
    private static func load(_ flag: String, _ arguments: CommandLineArguments, mode: ForwardMode,
                             inputSize: (height: Int, width: Int)?, beside reference: InferenceModel?) throws -> InferenceModel {
        let url = URL(fileURLWithPath: try arguments.required(flag))
        let file = try SafeTensorsFile(contentsOf: url)
        // Every .bnnpack version names a `bnn-packed-…` format (PackedModel reports an old one), and
        // one whose format entry was lost still has its graph; checkpoints have neither.
        let isPacked = file.metadata["format"]?.hasPrefix("bnn-packed") ?? PackedModel.looksPacked(file)
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
            for flag in ["arch", "num-classes", "widths", "blocks", "stem", "variant", "image-size"] where arguments.has(flag) {
                throw CommandLineError("--\(flag) describes a checkpoint; \(url.path) is a packed model that carries its own")
            }
            let packed = try PackedModel(file: file)
            let stored = try EvaluationSettings(entries: packed.preprocessing, file: url.path,
                                                metadataKey: PackedModel.preprocessingMetadataKey)
            let evaluation = try EvaluationSettings.resolve(arguments, stored: stored)
            try reference?.admit(url.path, classes: packed.classNames.count, names: packed.classNames,
                                 inputSize: (packed.inputHeight, packed.inputWidth),
                                 evaluation: stored.map { _ in evaluation }, beside: try arguments.required("weights"))
            return .packed(try InferenceEngine(model: packed), evaluation: evaluation)
        }
        let stored = try ModelArchitecture.stored(in: file.metadata, file: url.path)
        let architecture = try ModelArchitecture.resolve(arguments, stored: stored?.architecture)
        let given = try arguments.integer("image-size", in: 1...4096)
        let statedSize = given ?? stored?.imageSize
        let size = statedSize ?? reference?.inputSize ?? (architecture.stem == .imagenet ? 224 : 32)
        let evaluation = try EvaluationSettings.resolve(arguments, stored: stored?.evaluation)
        let storedNames = try ModelArchitecture.storedClassNames(in: file.metadata, file: url.path)
            .flatMap { $0.count == architecture.classes ? $0 : nil }
        try reference?.admit(url.path, classes: architecture.classes, names: storedNames,
                             inputSize: statedSize.map { ($0, $0) },
                             evaluation: stored?.evaluation.map { _ in evaluation }, beside: try arguments.required("weights"))
        let model = try architecture.makeModel(seed: 0).model
        if let note = try model.loadPyTorchWeights(from: Checkpoint(file: file)).note {
            FileHandle.standardError.write(Data("\(note)\n".utf8))
        }
        let names = storedNames ?? Self.placeholderNames(architecture.classes)
        switch engine {
        case .float:
            return .float(model, classNames: names, inputSize: size, mode: mode, evaluation: evaluation)
        case .packed:
            guard mode == .evaluation else { throw CommandLineError("--mode train needs --engine float") }
            let (height, width) = given.map { ($0, $0) } ?? inputSize ?? (size, size)
            return .packed(try InferenceEngine(model: PackedModel(exporting: model, inputHeight: height, inputWidth: width,
                                                                  classNames: names, architecture: architecture.summary)),
                           evaluation: evaluation)
        }
    }

    /// `class0`, `class1`, …: the names of a checkpoint that stores none.
    static func placeholderNames(_ count: Int) -> [String] { (0..<count).map { "class\($0)" } }

    /// Refuses the model in `file` (`--compare`) as one to evaluate on the images of this model (from
    /// `referenceFile`, `--weights`, named by its full path as `file` is) when its class count differs,
    /// when both models name their classes and the names or their order differ (`names` nil: the
    /// file stores none), or when it states an input size or stores evaluation settings other than
    /// this model's (nil: it states or stores none).
    /// `evaluation` is the file's settings with the flags applied, so `--crop-pct`, which sets the crop
    /// of both, never conflicts.
    ///
    /// - Throws: `ProgramExit` (failure) for another class count, `CommandLineError` for another input
    ///   size, crop fraction or resize filter; each message names both files.
    private func admit(_ file: String, classes: Int, names: [String]?, inputSize: (height: Int, width: Int)?,
                       evaluation: EvaluationSettings?, beside referenceFile: String) throws {
        let reference = "--weights \(URL(fileURLWithPath: referenceFile).path)"
        guard classes == classNames.count else {
            throw ProgramExit(.failure, "--compare \(file) has \(classes) classes but \(reference) has \(classNames.count); "
                              + "only models of the same classes can be compared")
        }
        let placeholders = Self.placeholderNames(classes)
        if let names, names != placeholders, classNames != placeholders,
           let index = names.indices.first(where: { names[$0] != classNames[$0] }) {
            throw ProgramExit(.failure, "--compare \(file) names class \(index) '\(names[index])' but \(reference) names it "
                              + "'\(classNames[index])'; only models of the same classes in the same order can be compared")
        }
        let reason = "both models are evaluated on the same images, prepared for --weights"
        if let size = inputSize, size.height != self.inputSize || size.width != self.inputSize {
            throw CommandLineError("--compare \(file) takes \(size.height)×\(size.width) images but \(reference) "
                                   + "\(self.inputSize)×\(self.inputSize); \(reason)")
        }
        guard let evaluation else { return }
        if evaluation.cropFraction != self.evaluation.cropFraction {
            throw CommandLineError("--compare \(file) is evaluated with centre crop \(evaluation.cropFraction) but \(reference) "
                                   + "with \(self.evaluation.cropFraction); \(reason) (--crop-pct sets the crop of both)")
        }
        if evaluation.filter != self.evaluation.filter {
            throw CommandLineError("--compare \(file) is evaluated with the \(evaluation.filter.rawValue) resize filter but "
                                   + "\(reference) with \(self.evaluation.filter.rawValue); \(reason)")
        }
    }

    /// One name per class.
    var classNames: [String] {
        switch self {
        case .packed(let engine, _): return engine.model.classNames
        case .float(_, let names, _, _, _): return names
        }
    }

    /// The square image size the model takes (height = width).
    var inputSize: Int {
        switch self {
        case .packed(let engine, _): return engine.model.inputHeight
        case .float(_, _, let size, _, _): return size
        }
    }

    /// The settings images are prepared with: the model's own, or as `--crop-pct` overrides them.
    var evaluation: EvaluationSettings {
        switch self {
        case .packed(_, let evaluation), .float(_, _, _, _, let evaluation): return evaluation
        }
    }

    /// The transform of the images the model classifies or is evaluated on: ``evaluation`` at ``inputSize``.
    var transform: EvaluationTransform { evaluation.transform(imageSize: inputSize) }

    /// The engine's name.
    var engineName: String {
        switch self {
        case .packed: return "packed"
        case .float: return "float"
        }
    }

    /// N×classes logits of N×H×W×3 images.
    ///
    /// - Throws: `InferenceError` for images of the wrong size (packed engine) or with NaN or infinite
    ///   values (both engines), `CommandLineError` for a float model given images that are not N×H×W×3.
    func logits(_ images: Tensor) throws -> Tensor {
        switch self {
        case .packed(let engine, _):
            return try engine.logits(for: images)
        case .float(let model, _, _, let mode, _):
            guard images.rank == 4, images.shape[3] == 3, images.shape.allSatisfy({ $0 > 0 }) else {
                throw CommandLineError("input must be N×H×W×3 images, found shape \(images.shape)")
            }
            try InferenceEngine.checkFinite(images)
            return model.forward(images, mode: mode)
        }
    }
}
