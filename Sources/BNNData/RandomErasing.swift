import BNN

/// timm's `RandomErasing`: with probability `probability`, `count` rectangles of the normalised image
/// are replaced according to ``mode``: zeros (the mean colour), one standard-normal colour per
/// rectangle, or independent standard-normal noise per pixel and channel.
///
/// Each rectangle gets up to 10 attempts: area uniform in `area` (fraction of the image, divided by
/// `count`), aspect ratio log-uniform in `aspect`, sides rounded half-to-even; it is placed uniformly when
/// both sides are strictly smaller than the image, otherwise that rectangle is skipped.
public struct RandomErasing: Equatable, Sendable {
    /// The chance that an image is erased at all (timm `re_prob`).
    public var probability: Double
    /// The range of the erased area as a fraction of the image area.
    public var area: ClosedRange<Double>
    /// The range of the erased rectangle's height / width.
    public var aspect: ClosedRange<Double>
    /// The number of rectangles (timm `re_count`).
    public var count: Int
    /// What fills a rectangle (timm `re_mode`).
    public var mode: Mode

    /// timm's `re_mode`.
    public enum Mode: String, CaseIterable, Equatable, Sendable {
        /// Zeros: the normalisation mean.
        case const
        /// One standard-normal value per channel for the whole rectangle.
        case rand
        /// A standard-normal value per pixel and channel.
        case pixel
    }

    /// Creates the augmentation; defaults are timm's (area 0.02 – 1/3, aspect 0.3 – 1/0.3, one rectangle)
    /// with the reference recipe's mode `pixel`.
    public init(probability: Double, area: ClosedRange<Double> = 0.02...(1.0 / 3.0),
                aspect: ClosedRange<Double> = 0.3...(1 / 0.3), count: Int = 1, mode: Mode = .pixel) {
        precondition((0...1).contains(probability) && count >= 1 && area.lowerBound > 0 && aspect.lowerBound > 0,
                     "RandomErasing: probability in 0...1, count ≥ 1, positive area and aspect")
        self.probability = probability
        self.area = area
        self.aspect = aspect
        self.count = count
        self.mode = mode
    }

    /// Erases rectangles of the H×W×3 floats in `pixels` in place.
    public func apply(_ pixels: UnsafeMutableBufferPointer<Float>, width: Int, height: Int,
                      generator: inout SeededGenerator) {
        precondition(pixels.count == width * height * 3, "RandomErasing: buffer is not \(width)x\(height)x3")
        guard generator.nextUnitDouble() < probability else { return }
        let imageArea = Double(width * height)
        let logLower = _log(aspect.lowerBound), logUpper = _log(aspect.upperBound)
        for _ in 0..<count {
            for _ in 0..<10 {
                let target = generator.uniform(area.lowerBound, area.upperBound) * imageArea / Double(count)
                let ratio = _exp(generator.uniform(logLower, logUpper))
                let h = Int((target * ratio).squareRoot().rounded(.toNearestOrEven))
                let w = Int((target / ratio).squareRoot().rounded(.toNearestOrEven))
                guard w < width && h < height else { continue }
                let top = generator.integer(0, through: height - h)
                let left = generator.integer(0, through: width - w)
                var colour: [Float] = [0, 0, 0]
                if mode == .rand { colour = (0..<3).map { _ in generator.nextNormal() } }
                for y in top..<(top + h) {
                    let row = (y * width + left) * 3
                    if mode == .pixel {
                        for i in 0..<(w * 3) { pixels[row + i] = generator.nextNormal() }
                    } else {
                        for i in 0..<(w * 3) { pixels[row + i] = colour[i % 3] }
                    }
                }
                break
            }
        }
    }
}
