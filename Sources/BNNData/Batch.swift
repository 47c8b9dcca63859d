import BNN

/// One batch from the ``DataLoader``.
public struct Batch: Sendable {
    /// The images, N×H×W×3 channels-last, normalised floats.
    public var images: Tensor
    /// The class index of each image.
    public var labels: [Int]
    /// N×classes soft targets when the loader applies ``Mixup``, else `nil`.
    public var softTargets: Tensor?
    /// The source index of each image (a bad file's slot holds its replacement's index).
    public var sampleIndices: [Int]
    /// The position of this batch in the epoch (0-based).
    public var index: Int
}
