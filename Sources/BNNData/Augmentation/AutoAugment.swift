import BNN

/// timm's `auto_augment` setting on 8-bit images: an AutoAugment ImageNet policy (one random sub-policy
/// of two ops per image) or RandAugment (`layers` ops drawn uniformly with replacement per image).
///
/// Parsed from timm's strings: `original`, `originalr`, `v0`, `v0r` with an optional `-mstd<σ>`; and
/// `rand-…` with sections `m<int>` (magnitude, 10), `n<int>` (layers, 2), `mstd<float>` (magnitude noise;
/// above 100 uniform), `mmax<int>` (magnitude clip, 10), `inc<0|1>` (the increasing-severity ops),
/// `p<float>` (per-op probability, 0.5), e.g. `rand-m9-mstd0.5-inc1`.
public struct AutoAugment: Equatable, Sendable {
    /// What is drawn per image.
    public enum Mode: Equatable, Sendable {
        /// One sub-policy chosen uniformly, its ops applied in order.
        case policy([[AugmentOperation]])
        /// `layers` ops chosen uniformly with replacement, applied in order.
        case random(operations: [AugmentOperation], layers: Int)
    }

    /// The draw.
    public var mode: Mode
    /// The ops' hyper-parameters.
    public var settings: AugmentSettings

    /// Creates the augmentation from its parts.
    public init(mode: Mode, settings: AugmentSettings) {
        self.mode = mode
        self.settings = settings
    }

    /// Parses a timm `auto_augment` string for crops of `imageSize` pixels.
    ///
    /// - Parameters:
    ///   - text: the setting, e.g. `rand-m9-mstd0.5-inc1` or `original-mstd0.5`.
    ///   - imageSize: the training crop side (translations scale with it).
    ///   - mean: the normalisation mean (its bytes fill uncovered pixels).
    ///   - interpolation: the recipe's interpolation; `random` lets each geometric op pick bilinear or bicubic.
    /// - Throws: ``BNNDataError/invalidConfiguration(_:)`` naming the value and what is accepted, for an
    ///   unknown policy, an unknown or malformed section, or AugMix (not implemented).
    public init(parsing text: String, imageSize: Int, mean: [Float] = Normalization.imageNet.mean,
                interpolation: Interpolation = .random) throws {
        var settings = AugmentSettings(imageSize: imageSize, mean: mean, interpolation: interpolation)
        let sections = text.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        let head = sections[0]
        func invalid(_ why: String) -> BNNDataError {
            .invalidConfiguration("auto_augment '\(text)': \(why); accepted: None, original, originalr, v0, v0r "
                                  + "(optionally -mstd<float>), or rand-[m<int>][-n<int>][-mstd<float>][-mmax<int>]"
                                  + "[-inc<0|1>][-p<float>]")
        }
        var options: [(key: String, value: String)] = []
        for section in sections.dropFirst() {
            guard let split = section.firstIndex(where: { $0.isNumber }), split != section.startIndex else {
                throw invalid("section '\(section)' is not <key><number>")
            }
            options.append((String(section[..<split]), String(section[split...])))
        }
        func number(_ option: (key: String, value: String)) throws -> Double {
            guard let v = Double(option.value), v.isFinite, v >= 0 else {
                throw invalid("'\(option.key)\(option.value)' needs a non-negative number")
            }
            return v
        }
        func integer(_ option: (key: String, value: String)) throws -> Int {
            guard let v = Int(option.value), v >= 0 else { throw invalid("'\(option.key)\(option.value)' needs an integer") }
            return v
        }
        if head == "rand" {
            var magnitude = 10.0, layers = 2, increasing = false, probability = 0.5
            for option in options {
                switch option.key {
                case "m": magnitude = Double(try integer(option))
                case "n": layers = try integer(option)
                case "mstd":
                    let spread = try number(option)
                    settings.magnitudeStandardDeviation = spread > 100 ? .infinity : spread
                case "mmax": settings.magnitudeMaximum = Double(try integer(option))
                case "inc": increasing = try integer(option) != 0
                case "p":
                    probability = try number(option)
                    guard probability <= 1 else { throw invalid("p must be in 0...1") }
                default: throw invalid("unknown RandAugment section '\(option.key)'")
                }
            }
            guard layers >= 1 else { throw invalid("n must be at least 1") }
            let names = increasing ? Self.increasingNames : Self.randomNames
            mode = .random(operations: names.map { AugmentOperation($0, probability: probability, magnitude: magnitude) },
                           layers: layers)
        } else if let policy = Self.policies[head] {
            for option in options {
                guard option.key == "mstd" else { throw invalid("unknown AutoAugment section '\(option.key)'") }
                settings.magnitudeStandardDeviation = try number(option)
            }
            mode = .policy(policy)
        } else if head == "augmix" {
            throw invalid("AugMix is not implemented")
        } else {
            throw invalid("unknown policy '\(head)'")
        }
        self.settings = settings
    }

    /// Augments `image` in place with draws from `generator`.
    public func apply(to image: inout PixelBuffer, generator: inout SeededGenerator) {
        switch mode {
        case .policy(let subPolicies):
            for op in subPolicies[generator.nextIndex(below: subPolicies.count)] {
                op.apply(to: &image, settings: settings, generator: &generator)
            }
        case .random(let operations, let layers):
            for _ in 0..<layers {
                operations[generator.nextIndex(below: operations.count)]
                    .apply(to: &image, settings: settings, generator: &generator)
            }
        }
    }

    /// timm's `_RAND_TRANSFORMS`.
    static let randomNames: [AugmentOperation.Name] = [
        .autoContrast, .equalize, .invert, .rotate, .posterize, .solarize, .solarizeAdd, .color, .contrast,
        .brightness, .sharpness, .shearX, .shearY, .translateXRelative, .translateYRelative,
    ]
    /// timm's `_RAND_INCREASING_TRANSFORMS`.
    static let increasingNames: [AugmentOperation.Name] = [
        .autoContrast, .equalize, .invert, .rotate, .posterizeIncreasing, .solarizeIncreasing, .solarizeAdd,
        .colorIncreasing, .contrastIncreasing, .brightnessIncreasing, .sharpnessIncreasing, .shearX, .shearY,
        .translateXRelative, .translateYRelative,
    ]
}
