import BNN

/// The evaluation transform: resize the shorter side to `Int(imageSize / cropFraction)` (with ``filter``,
/// bilinear by default), take the centre `imageSize × imageSize` crop, normalise.
///
/// Sizes follow torchvision: the longer side becomes `Int(size · long / short)`; the crop offsets are
/// `round((resized − imageSize) / 2)` with Python's half-to-even rounding. No randomness.
public struct EvaluationTransform: ImageTransform {
    /// The square output side (224).
    public var imageSize: Int
    /// The fraction of the resized shorter side kept by the centre crop (`crop_pct`, 0.875).
    public var cropFraction: Double
    /// The normalisation (ImageNet by default).
    public var normalization: Normalization
    /// See ``ImageTransform/dctReductionGap``; 2 by default.
    public var dctReductionGap: Double?
    /// The resize filter.
    public var filter: ResamplingFilter

    /// Creates the transform with the recipe's defaults.
    public init(imageSize: Int = 224, cropFraction: Double = 0.875, normalization: Normalization = .imageNet,
                dctReductionGap: Double? = 2, filter: ResamplingFilter = .bilinear) {
        precondition(imageSize > 0 && cropFraction > 0 && cropFraction <= 1, "EvaluationTransform: bad size or crop")
        self.imageSize = imageSize
        self.cropFraction = cropFraction
        self.normalization = normalization
        self.dctReductionGap = dctReductionGap
        self.filter = filter
    }

    /// The shorter side after resizing: `Int(imageSize / cropFraction)` (256 for 224 and 0.875).
    public var resizeSize: Int { Int((Double(imageSize) / cropFraction).rounded(.down)) }
    /// Equals ``imageSize``.
    public var outputWidth: Int { imageSize }
    /// Equals ``imageSize``.
    public var outputHeight: Int { imageSize }

    /// The whole image resized so its shorter side is ``resizeSize``, then the centre crop.
    ///
    /// An image smaller than the crop after resizing cannot occur: the resized sides are at least
    /// ``resizeSize`` ≥ ``imageSize``.
    public func plan(width: Int, height: Int, generator: inout SeededGenerator) -> ResizePlan {
        let size = resizeSize
        var newWidth = size, newHeight = size
        if width <= height {
            newHeight = Int(Double(size) * Double(height) / Double(width))
        } else {
            newWidth = Int(Double(size) * Double(width) / Double(height))
        }
        let left = Int((Double(newWidth - imageSize) / 2).rounded(.toNearestOrEven))
        let top = Int((Double(newHeight - imageSize) / 2).rounded(.toNearestOrEven))
        return ResizePlan(sourceRegion: PixelRegion(x: 0, y: 0, width: width, height: height),
                          resizedWidth: newWidth, resizedHeight: newHeight,
                          window: PixelRegion(x: left, y: top, width: imageSize, height: imageSize),
                          flipHorizontally: false, filter: filter)
    }

    /// Does nothing: evaluation has no augmentation.
    public func augment(_ pixels: UnsafeMutableBufferPointer<Float>, width: Int, height: Int,
                        generator: inout SeededGenerator) {}
}
