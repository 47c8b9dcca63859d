import BNN

/// One op of timm's AutoAugment / RandAugment (`AugmentOp`): a named operation applied with a
/// probability at a magnitude on timm's 0...10 scale, turned into the operation's argument by timm's
/// level functions.
public struct AugmentOperation: Equatable, Sendable {
    /// The operations by their timm names.
    public enum Name: String, CaseIterable, Sendable {
        /// `ImageOps.autocontrast`.
        case autoContrast = "AutoContrast"
        /// `ImageOps.equalize`.
        case equalize = "Equalize"
        /// `ImageOps.invert`.
        case invert = "Invert"
        /// Rotation by ±30° at magnitude 10.
        case rotate = "Rotate"
        /// Posterize keeping `int(m/10 · 4)` bits.
        case posterize = "Posterize"
        /// Posterize keeping `4 − int(m/10 · 4)` bits.
        case posterizeIncreasing = "PosterizeIncreasing"
        /// Posterize keeping `int(m/10 · 4) + 4` bits (the AutoAugment paper).
        case posterizeOriginal = "PosterizeOriginal"
        /// Solarize above `int(m/10 · 256)`.
        case solarize = "Solarize"
        /// Solarize above `256 − int(m/10 · 256)`.
        case solarizeIncreasing = "SolarizeIncreasing"
        /// Adds `int(m/10 · 110)` below 128.
        case solarizeAdd = "SolarizeAdd"
        /// Colour enhance, factor `m/10 · 1.8 + 0.1`.
        case color = "Color"
        /// Colour enhance, factor `1 ± m/10 · 0.9` (at least 0.1).
        case colorIncreasing = "ColorIncreasing"
        /// Contrast enhance, factor `m/10 · 1.8 + 0.1`.
        case contrast = "Contrast"
        /// Contrast enhance, factor `1 ± m/10 · 0.9`.
        case contrastIncreasing = "ContrastIncreasing"
        /// Brightness enhance, factor `m/10 · 1.8 + 0.1`.
        case brightness = "Brightness"
        /// Brightness enhance, factor `1 ± m/10 · 0.9`.
        case brightnessIncreasing = "BrightnessIncreasing"
        /// Sharpness enhance, factor `m/10 · 1.8 + 0.1`.
        case sharpness = "Sharpness"
        /// Sharpness enhance, factor `1 ± m/10 · 0.9`.
        case sharpnessIncreasing = "SharpnessIncreasing"
        /// Horizontal shear by ±0.3 at magnitude 10.
        case shearX = "ShearX"
        /// Vertical shear by ±0.3 at magnitude 10.
        case shearY = "ShearY"
        /// Horizontal shift by ± `translate_const` pixels at magnitude 10.
        case translateX = "TranslateX"
        /// Vertical shift by ± `translate_const` pixels at magnitude 10.
        case translateY = "TranslateY"
        /// Horizontal shift by ± `translate_pct` of the width at magnitude 10.
        case translateXRelative = "TranslateXRel"
        /// Vertical shift by ± `translate_pct` of the height at magnitude 10.
        case translateYRelative = "TranslateYRel"
    }

    /// The operation.
    public var name: Name
    /// The chance it is applied (timm `prob`).
    public var probability: Double
    /// The magnitude on the 0...10 scale (timm `magnitude`).
    public var magnitude: Double

    /// Creates an op.
    public init(_ name: Name, probability: Double, magnitude: Double) {
        self.name = name
        self.probability = probability
        self.magnitude = magnitude
    }

    /// Applies the op to `image` with probability ``probability``; the magnitude is perturbed by
    /// `settings.magnitudeStandardDeviation` (Gaussian, or uniform in 0...magnitude when infinite) and
    /// clipped to 0...`settings.magnitudeMaximum`, as timm's `AugmentOp.__call__`.
    func apply(to image: inout PixelBuffer, settings: AugmentSettings, generator: inout SeededGenerator) {
        if probability < 1 && generator.nextUnitDouble() > probability { return }
        var level = magnitude
        let spread = settings.magnitudeStandardDeviation
        if spread == .infinity {
            level = generator.uniform(0, magnitude)
        } else if spread > 0 {
            level = magnitude + spread * Double(generator.nextNormal())
        }
        level = max(0, min(level, settings.magnitudeMaximum))
        guard let operation = operation(level: level, width: image.width, height: image.height,
                                        settings: settings, generator: &generator) else { return }
        operation.apply(to: &image)
    }

    /// The Pillow operation at `level` (timm's `LEVEL_TO_ARG` and `NAME_TO_OP`), `nil` when it is the
    /// identity (posterize keeping 8 bits).
    func operation(level: Double, width: Int, height: Int, settings: AugmentSettings,
                   generator: inout SeededGenerator) -> PixelOperation? {
        let fraction = level / 10
        func negated(_ v: Double) -> Double { generator.nextUnitDouble() > 0.5 ? -v : v }
        func enhanceIncreasing() -> Double { max(0.1, 1 + negated(fraction * 0.9)) }
        func affine(_ m: [Double]) -> PixelOperation {
            .affine(m, filter: settings.interpolation.draw(&generator), fill: settings.fill)
        }
        switch name {
        case .autoContrast: return .autoContrast
        case .equalize: return .equalize
        case .invert: return .invert
        case .rotate:
            let degrees = negated(fraction * 30)
            return .rotate(degrees: degrees, width: width, height: height,
                           filter: settings.interpolation.draw(&generator), fill: settings.fill)
        case .posterize, .posterizeIncreasing, .posterizeOriginal:
            let bits = name == .posterize ? Int(fraction * 4)
                : name == .posterizeIncreasing ? 4 - Int(fraction * 4) : Int(fraction * 4) + 4
            return bits >= 8 ? nil : .posterize(bits: max(bits, 0))
        case .solarize: return .solarize(threshold: Int(fraction * 256))
        case .solarizeIncreasing: return .solarize(threshold: 256 - Int(fraction * 256))
        case .solarizeAdd: return .solarizeAdd(Int(fraction * 110))
        case .color: return .enhance(.color, factor: fraction * 1.8 + 0.1)
        case .contrast: return .enhance(.contrast, factor: fraction * 1.8 + 0.1)
        case .brightness: return .enhance(.brightness, factor: fraction * 1.8 + 0.1)
        case .sharpness: return .enhance(.sharpness, factor: fraction * 1.8 + 0.1)
        case .colorIncreasing: return .enhance(.color, factor: enhanceIncreasing())
        case .contrastIncreasing: return .enhance(.contrast, factor: enhanceIncreasing())
        case .brightnessIncreasing: return .enhance(.brightness, factor: enhanceIncreasing())
        case .sharpnessIncreasing: return .enhance(.sharpness, factor: enhanceIncreasing())
        case .shearX: return affine([1, negated(fraction * 0.3), 0, 0, 1, 0])
        case .shearY: return affine([1, 0, 0, negated(fraction * 0.3), 1, 0])
        case .translateX: return affine([1, 0, negated(fraction * Double(settings.translateConstant)), 0, 1, 0])
        case .translateY: return affine([1, 0, 0, 0, 1, negated(fraction * Double(settings.translateConstant))])
        case .translateXRelative:
            return affine([1, 0, negated(fraction * settings.translateFraction) * Double(width), 0, 1, 0])
        case .translateYRelative:
            return affine([1, 0, 0, 0, 1, negated(fraction * settings.translateFraction) * Double(height)])
        }
    }
}

/// timm's `hparams` of the augment ops.
public struct AugmentSettings: Equatable, Sendable {
    /// Pixels of the absolute translations at magnitude 10 (timm `translate_const`, `int(0.45 · size)`).
    public var translateConstant: Int
    /// Fraction of the side of the relative translations at magnitude 10 (timm `translate_pct`, 0.45).
    public var translateFraction: Double
    /// The fill colour of geometric ops (timm `img_mean`: the normalisation mean × 255, rounded).
    public var fill: [UInt8]
    /// The filter of geometric ops: the recipe's interpolation, or bilinear/bicubic at random (timm's
    /// default when `interpolation` is `random`).
    public var interpolation: Interpolation
    /// Standard deviation of the magnitude noise (`mstd`; `.infinity` samples uniformly).
    public var magnitudeStandardDeviation: Double
    /// The upper clip of the magnitude (`mmax`, 10 by default).
    public var magnitudeMaximum: Double

    /// The settings timm's `create_transform` derives for an `imageSize` crop and a normalisation mean.
    public init(imageSize: Int, mean: [Float] = Normalization.imageNet.mean, interpolation: Interpolation = .random,
                translateFraction: Double = 0.45, magnitudeStandardDeviation: Double = 0, magnitudeMaximum: Double = 10) {
        translateConstant = Int(Double(imageSize) * 0.45)
        self.translateFraction = translateFraction
        fill = mean.map { UInt8(min(255, (255 * Double($0)).rounded(.toNearestOrEven))) }
        self.interpolation = interpolation
        self.magnitudeStandardDeviation = magnitudeStandardDeviation
        self.magnitudeMaximum = magnitudeMaximum
    }
}
