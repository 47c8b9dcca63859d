extension EvaluationSettings {
    /// The command-line option that overrides a model's crop fraction, for programs that evaluate or
    /// export a model.
    public static let options: [CommandLineArguments.Option] = [
        .init("crop-pct", help: "evaluation centre-crop fraction in \(cropFractionRange): images are resized to image size / "
              + "fraction on their shorter side, then centre-cropped (default: the fraction the model was validated with in "
              + "training, which birealnet-train stores in the checkpoint and birealnet-export in the packed model; else 0.875)"),
    ]

    /// The settings `arguments` describe: `stored` (a model's own) or the defaults, with every flag
    /// given overriding its part (`--crop-pct` the crop fraction).
    ///
    /// - Throws: `CommandLineError` naming the flag and the range for a value that is not a number in
    ///   ``cropFractionRange``.
    public static func resolve(_ arguments: CommandLineArguments, stored: EvaluationSettings?) throws -> EvaluationSettings {
        var result = stored ?? EvaluationSettings()
        result.cropFraction = try arguments.double("crop-pct", default: result.cropFraction, in: cropFractionRange)
        return result
    }
}
