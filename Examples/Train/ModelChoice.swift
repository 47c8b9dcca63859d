import BiRealNet
import BNN
import BNNProgramSupport
import Foundation

/// The optional distillation teacher and the optimizer routing chosen by `--teacher`,
/// `--teacher-weights`, `--distill-label-weight` and `--optimizer bop` (the model itself is a
/// `ModelArchitecture` of BNNProgramSupport, shared with the export and inference programs).
enum ModelChoice {
    /// The frozen teacher of `--teacher ARCH --teacher-weights FILE`, or `nil` without `--teacher`.
    static func distillation(settings: TrainSettings, like configuration: BiRealNetConfiguration) throws -> DistillationLoss? {
        guard let arch = try settings.string("teacher") else { return nil }
        guard let weights = try settings.string("teacher_weights") else {
            throw CommandLineError("--teacher \(arch) needs --teacher-weights FILE (a trained float teacher)")
        }
        guard ModelArchitecture.names.contains(arch) else {
            throw CommandLineError("unknown teacher architecture '\(arch)' (one of \(ModelArchitecture.names))")
        }
        let teacher = try ModelArchitecture(name: arch, classes: configuration.classes, widths: configuration.widths,
                                            stem: configuration.stem, variant: configuration.variant).makeModel(seed: 0).model
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
