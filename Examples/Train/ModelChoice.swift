import BiRealNet
import BNN
import BNNProgramSupport
import Foundation
import ReActNet

/// The model, the optional distillation teacher and the optimizer routing chosen by `--arch`,
/// `--stage`, `--teacher`, `--teacher-weights`, `--distill-label-weight` and `--optimizer bop`.
enum ModelChoice {
    /// Every `--arch` and `--teacher` value.
    static let architectureNames = BiRealNetConfiguration.architectureNames + ReActNetConfiguration.architectureNames

    /// The model named `arch` (Bi-Real Net with `configuration`, or a ReActNet-target model with the
    /// same classes, stem and widths), its description and block list for the run metadata.
    static func model(arch: String, biReal configuration: BiRealNetConfiguration, stage: Int, seed: UInt64) throws -> (any TensorLayer, String) {
        if let reactConfiguration = try reactNetConfiguration(arch, like: configuration) {
            let model = Initializer.withSeed(seed) { ReActNet.model(reactConfiguration, binarizesWeights: stage != 1) }
            return (model, "\(reactConfiguration.architecture.rawValue), widths \(reactConfiguration.widths)")
        }
        guard stage == 2 else { throw CommandLineError("--stage 1 needs a ReActNet architecture (\(ReActNetConfiguration.architectureNames))") }
        return (Initializer.withSeed(seed) { BiRealNet(configuration) }, "\(configuration.blocksPerStage)")
    }

    /// The ReActNet-target configuration of `arch` with the classes, stem and widths of `configuration`
    /// (for ReActNet-A the four stage widths take the places of 128, 256, 512 and 1024).
    static func reactNetConfiguration(_ arch: String, like configuration: BiRealNetConfiguration) throws -> ReActNetConfiguration? {
        let stem: ReActNetConfiguration.Stem = configuration.stem == .small ? .small : .imagenet
        guard let base = ReActNetConfiguration.named(arch, classes: configuration.classes, stem: stem) else { return nil }
        guard base.architecture == .reactNetA else {
            return ReActNetConfiguration(architecture: base.architecture, classes: configuration.classes, stem: stem,
                                         widths: configuration.widths)
        }
        // ReActNet-A: the stem and first block at a quarter and half of the first stage width.
        let w = configuration.widths
        let widths = [w[0] / 4, w[0] / 2, w[0], w[0], w[1], w[1]] + [Int](repeating: w[2], count: 6) + [w[3], w[3]]
        guard widths.allSatisfy({ $0 > 0 }), w[1] == 2 * w[0], w[2] == 2 * w[1], w[3] == 2 * w[2], w[0] % 4 == 0 else {
            throw CommandLineError("reactnet-a needs widths that double from stage to stage, the first a multiple of 4, got \(w)")
        }
        return ReActNetConfiguration(architecture: .reactNetA, classes: configuration.classes, stem: stem, widths: widths)
    }

    /// The frozen teacher of `--teacher ARCH --teacher-weights FILE`, or `nil` without `--teacher`.
    static func distillation(settings: TrainSettings, like configuration: BiRealNetConfiguration) throws -> DistillationLoss? {
        guard let arch = try settings.string("teacher") else { return nil }
        guard let weights = try settings.string("teacher_weights") else {
            throw CommandLineError("--teacher \(arch) needs --teacher-weights FILE (a trained float teacher)")
        }
        let teacher: any TensorLayer
        if let reactConfiguration = try reactNetConfiguration(arch, like: configuration) {
            teacher = ReActNet.model(reactConfiguration)
        } else if let biReal = BiRealNetConfiguration.named(arch, classes: configuration.classes, stem: configuration.stem,
                                                              variant: configuration.variant, widths: configuration.widths) {
            teacher = BiRealNet(biReal)
        } else {
            throw CommandLineError("unknown teacher architecture '\(arch)' (one of \(architectureNames))")
        }
        try teacher.loadPyTorchWeights(from: URL(fileURLWithPath: weights))
        return DistillationLoss(teacher: teacher, labelWeight: Float(try settings.double("distill_label_weight", default: 0, in: 0...1)))
    }

    /// `--optimizer bop`: Bop over the model's latent binary weights, with `--bop-gamma` and `--bop-threshold`.
    static func bop(settings: TrainSettings, model: any TensorLayer) throws -> Bop {
        let binary = model.namedParameters().filter { $0.parameter.kind == .latentBinary }
        guard !binary.isEmpty else { throw CommandLineError("--optimizer bop needs a model with binary weights") }
        return Bop(ParameterGroups(binary), gamma: try settings.double("bop_gamma", default: 1e-4, in: 1e-12...1),
                   threshold: try settings.double("bop_threshold", default: 1e-8, in: 0...1))
    }
}
