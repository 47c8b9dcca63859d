import BNN

/// The filter of a resize, as Pillow names it (`Image.NEAREST`, `Image.BILINEAR`, `Image.BICUBIC`).
///
/// Bilinear and bicubic are Pillow's antialiased convolution filters (a triangle of support 1 and Keys'
/// cubic with a = −0.5 of support 2, both widened by the downscaling factor); nearest takes the source
/// pixel under each output pixel's centre, as Pillow's `ImagingScaleAffine`.
public enum ResamplingFilter: String, CaseIterable, Equatable, Sendable {
    /// Nearest neighbour.
    case nearest
    /// Antialiased bilinear (triangle) filter.
    case bilinear
    /// Antialiased bicubic filter (a = −0.5).
    case bicubic

    /// The filter's support radius in input pixels at scale 1 (0 for nearest).
    var support: Double {
        switch self {
        case .nearest: return 0
        case .bilinear: return 1
        case .bicubic: return 2
        }
    }

    /// The filter's weight at distance `x` (Pillow's `bilinear_filter` / `bicubic_filter`).
    func weight(_ x: Double) -> Double {
        let t = x < 0 ? -x : x
        switch self {
        case .nearest: return t < 0.5 ? 1 : 0
        case .bilinear: return t < 1 ? 1 - t : 0
        case .bicubic:
            let a = -0.5
            if t < 1 { return ((a + 2) * t - (a + 3)) * t * t + 1 }
            if t < 2 { return (((t - 5) * t + 8) * t - 4) * a }
            return 0
        }
    }
}

/// How a training transform chooses its resize filter (`interpolation` in the recipe).
public enum Interpolation: Equatable, Sendable {
    /// Always this filter.
    case fixed(ResamplingFilter)
    /// Bilinear or bicubic with equal chance per image, as timm's `interpolation: random`.
    case random

    /// Parses a recipe value: `nearest`, `bilinear`, `bicubic` or `random` (any case).
    ///
    /// - Throws: ``BNNDataError/invalidConfiguration(_:)`` naming the value and the accepted ones.
    public init(parsing text: String) throws {
        let lowered = text.lowercased()
        if lowered == "random" {
            self = .random
        } else if let filter = ResamplingFilter(rawValue: lowered) {
            self = .fixed(filter)
        } else {
            throw BNNDataError.invalidConfiguration(
                "interpolation '\(text)' is not one of nearest, bilinear, bicubic, random")
        }
    }

    /// The filter of the evaluation resize: the fixed one, bilinear for ``random``.
    public var evaluationFilter: ResamplingFilter {
        if case .fixed(let filter) = self { return filter }
        return .bilinear
    }

    /// The filter for one image: the fixed one, or one draw from `generator` for ``random``.
    public func draw(_ generator: inout SeededGenerator) -> ResamplingFilter {
        switch self {
        case .fixed(let filter): return filter
        case .random: return generator.nextIndex(below: 2) == 0 ? .bilinear : .bicubic
        }
    }
}
