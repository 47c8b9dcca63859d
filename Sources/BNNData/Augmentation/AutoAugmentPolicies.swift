/// The four AutoAugment ImageNet policies of timm: 25 sub-policies of two (name, probability, magnitude)
/// ops each. `original` is the paper's (Cubuk et al. 2018), `v0` the TPU EfficientNet one; the `r`
/// variants use the increasing posterize of Google's research code.
extension AutoAugment {
    static let policies: [String: [[AugmentOperation]]] = {
        var policies = tables
        policies["originalr"] = replacing(.posterizeOriginal, in: tables["original"] ?? [])
        policies["v0r"] = replacing(.posterize, in: tables["v0"] ?? [])
        return policies
    }()

    /// A policy with `name` replaced by the increasing posterize (how timm's `r` variants differ).
    private static func replacing(_ name: AugmentOperation.Name, in policy: [[AugmentOperation]]) -> [[AugmentOperation]] {
        policy.map { $0.map { $0.name == name ? AugmentOperation(.posterizeIncreasing, probability: $0.probability,
                                                                  magnitude: $0.magnitude) : $0 } }
    }

    private static let tables: [String: [[AugmentOperation]]] = [
        "original": table("""
            PosterizeOriginal 0.4 8, Rotate 0.6 9
            Solarize 0.6 5, AutoContrast 0.6 5
            Equalize 0.8 8, Equalize 0.6 3
            PosterizeOriginal 0.6 7, PosterizeOriginal 0.6 6
            Equalize 0.4 7, Solarize 0.2 4
            Equalize 0.4 4, Rotate 0.8 8
            Solarize 0.6 3, Equalize 0.6 7
            PosterizeOriginal 0.8 5, Equalize 1.0 2
            Rotate 0.2 3, Solarize 0.6 8
            Equalize 0.6 8, PosterizeOriginal 0.4 6
            Rotate 0.8 8, Color 0.4 0
            Rotate 0.4 9, Equalize 0.6 2
            Equalize 0.0 7, Equalize 0.8 8
            Invert 0.6 4, Equalize 1.0 8
            Color 0.6 4, Contrast 1.0 8
            Rotate 0.8 8, Color 1.0 2
            Color 0.8 8, Solarize 0.8 7
            Sharpness 0.4 7, Invert 0.6 8
            ShearX 0.6 5, Equalize 1.0 9
            Color 0.4 0, Equalize 0.6 3
            Equalize 0.4 7, Solarize 0.2 4
            Solarize 0.6 5, AutoContrast 0.6 5
            Invert 0.6 4, Equalize 1.0 8
            Color 0.6 4, Contrast 1.0 8
            Equalize 0.8 8, Equalize 0.6 3
            """),
        "v0": table("""
            Equalize 0.8 1, ShearY 0.8 4
            Color 0.4 9, Equalize 0.6 3
            Color 0.4 1, Rotate 0.6 8
            Solarize 0.8 3, Equalize 0.4 7
            Solarize 0.4 2, Solarize 0.6 2
            Color 0.2 0, Equalize 0.8 8
            Equalize 0.4 8, SolarizeAdd 0.8 3
            ShearX 0.2 9, Rotate 0.6 8
            Color 0.6 1, Equalize 1.0 2
            Invert 0.4 9, Rotate 0.6 0
            Equalize 1.0 9, ShearY 0.6 3
            Color 0.4 7, Equalize 0.6 0
            Posterize 0.4 6, AutoContrast 0.4 7
            Solarize 0.6 8, Color 0.6 9
            Solarize 0.2 4, Rotate 0.8 9
            Rotate 1.0 7, TranslateYRel 0.8 9
            ShearX 0.0 0, Solarize 0.8 4
            ShearY 0.8 0, Color 0.6 4
            Color 1.0 0, Rotate 0.6 2
            Equalize 0.8 4, Equalize 0.0 8
            Equalize 1.0 4, AutoContrast 0.6 2
            ShearY 0.4 7, SolarizeAdd 0.6 7
            Posterize 0.8 2, Solarize 0.6 10
            Solarize 0.6 8, Equalize 0.6 1
            Color 0.8 6, Rotate 0.4 5
            """),
    ]

    /// Parses lines of `Name probability magnitude, Name probability magnitude`.
    private static func table(_ text: String) -> [[AugmentOperation]] {
        text.split(separator: "\n").map { line in
            line.split(separator: ",").map { op in
                let parts = op.split(separator: " ")
                guard parts.count == 3, let name = AugmentOperation.Name(rawValue: String(parts[0])),
                      let probability = Double(parts[1]), let magnitude = Double(parts[2]) else {
                    preconditionFailure("AutoAugment policy table: bad entry '\(op)'")
                }
                return AugmentOperation(name, probability: probability, magnitude: magnitude)
            }
        }
    }
}
