import BNN

/// torchvision's `RandomResizedCrop.get_params`: a crop of random area fraction and aspect ratio.
///
/// Up to 10 attempts draw an area `scale`-fraction (uniform) and an aspect ratio (log-uniform in
/// `ratio`), round the sides half-to-even like Python's `round`, and accept the first that fits, placed
/// uniformly. If none fits, the fallback is the centre crop of the whole image clamped to the ratio range.
public struct RandomResizedCrop: Equatable, Sendable {
    /// The range of the crop area as a fraction of the image area.
    public var scale: ClosedRange<Double>
    /// The range of the crop's width / height.
    public var ratio: ClosedRange<Double>

    /// Creates the sampler; the defaults are torchvision's (0.08 – 1, 3/4 – 4/3).
    public init(scale: ClosedRange<Double> = 0.08...1.0, ratio: ClosedRange<Double> = (3.0 / 4.0)...(4.0 / 3.0)) {
        precondition(scale.lowerBound > 0 && ratio.lowerBound > 0, "RandomResizedCrop: scale and ratio must be positive")
        self.scale = scale
        self.ratio = ratio
    }

    /// A crop of an image of `width × height` pixels.
    public func sample(width: Int, height: Int, generator: inout SeededGenerator) -> PixelRegion {
        let area = Double(width * height)
        let logLower = _log(ratio.lowerBound), logUpper = _log(ratio.upperBound)
        for _ in 0..<10 {
            let targetArea = area * generator.uniform(scale.lowerBound, scale.upperBound)
            let aspect = _exp(generator.uniform(logLower, logUpper))
            let w = Int((targetArea * aspect).squareRoot().rounded(.toNearestOrEven))
            let h = Int((targetArea / aspect).squareRoot().rounded(.toNearestOrEven))
            if w > 0 && w <= width && h > 0 && h <= height {
                let top = generator.nextIndex(below: height - h + 1)
                let left = generator.nextIndex(below: width - w + 1)
                return PixelRegion(x: left, y: top, width: w, height: h)
            }
        }
        let inRatio = Double(width) / Double(height)
        var w = width, h = height
        if inRatio < ratio.lowerBound {
            h = Int((Double(w) / ratio.lowerBound).rounded(.toNearestOrEven))
        } else if inRatio > ratio.upperBound {
            w = Int((Double(h) * ratio.upperBound).rounded(.toNearestOrEven))
        }
        return PixelRegion(x: (width - w) / 2, y: (height - h) / 2, width: w, height: h)
    }
}
