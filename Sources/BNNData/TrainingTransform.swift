import BNN

/// The training transform of the reference recipe: RandomResizedCrop → horizontal flip → optional
/// AutoAugment / RandAugment on the 8-bit pixels → [0, 1] floats → normalisation → optional random erasing.
///
/// Random draws per image, in order: the crop (``RandomResizedCrop``), the filter (``interpolation``),
/// the flip (`u < flipProbability`), the ``autoAugment`` ops, then erasing. Resizing is Pillow's
/// antialiased filter on the crop, as torchvision does on PIL images.
public struct TrainingTransform: ImageTransform {
    /// The square output side (`image_size`, 224 in the recipe).
    public var imageSize: Int
    /// The crop sampler.
    public var crop: RandomResizedCrop
    /// The resize filter, or a random choice per image.
    public var interpolation: Interpolation
    /// AutoAugment or RandAugment on the resized, mirrored bytes, or `nil` (recipe `auto_augment: None`).
    public var autoAugment: AutoAugment?
    /// The chance of mirroring left to right.
    public var flipProbability: Double
    /// Random erasing after normalisation, or `nil` (recipe `re_prob: 0`).
    public var erasing: RandomErasing?
    /// The normalisation (ImageNet by default).
    public var normalization: Normalization
    /// See ``ImageTransform/dctReductionGap``; 2 by default.
    public var dctReductionGap: Double?

    /// Creates the transform with the recipe's defaults.
    public init(imageSize: Int = 224, crop: RandomResizedCrop = RandomResizedCrop(), flipProbability: Double = 0.5,
                erasing: RandomErasing? = nil, normalization: Normalization = .imageNet,
                dctReductionGap: Double? = 2, interpolation: Interpolation = .fixed(.bilinear),
                autoAugment: AutoAugment? = nil) {
        precondition(imageSize > 0 && (0...1).contains(flipProbability), "TrainingTransform: bad size or probability")
        self.imageSize = imageSize
        self.crop = crop
        self.flipProbability = flipProbability
        self.erasing = erasing
        self.normalization = normalization
        self.dctReductionGap = dctReductionGap
        self.interpolation = interpolation
        self.autoAugment = autoAugment
    }

    /// Equals ``imageSize``.
    public var outputWidth: Int { imageSize }
    /// Equals ``imageSize``.
    public var outputHeight: Int { imageSize }

    /// A random crop resized to `imageSize × imageSize`, mirrored with probability ``flipProbability``.
    public func plan(width: Int, height: Int, generator: inout SeededGenerator) -> ResizePlan {
        let region = crop.sample(width: width, height: height, generator: &generator)
        let filter = interpolation.draw(&generator)
        let flip = generator.nextUnitDouble() < flipProbability
        return ResizePlan(sourceRegion: region, resizedWidth: imageSize, resizedHeight: imageSize,
                          window: PixelRegion(x: 0, y: 0, width: imageSize, height: imageSize), flipHorizontally: flip,
                          filter: filter)
    }

    /// Applies ``erasing`` when set.
    public func augment(_ pixels: UnsafeMutableBufferPointer<Float>, width: Int, height: Int,
                        generator: inout SeededGenerator) {
        erasing?.apply(pixels, width: width, height: height, generator: &generator)
    }

    /// Whether ``autoAugment`` is set.
    public var augmentsBytes: Bool { autoAugment != nil }

    /// Applies ``autoAugment`` when set.
    public func augment(_ image: inout PixelBuffer, generator: inout SeededGenerator) {
        autoAugment?.apply(to: &image, generator: &generator)
    }
}
