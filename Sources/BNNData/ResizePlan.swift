/// The geometric part of a transform for one image: which pixels are resized to what, which part of
/// the result is kept, and whether it is mirrored.
///
/// Resizing follows Pillow's `filter` on the pixels of `sourceRegion` alone (edges clamp at the
/// region, as after `Image.crop`), to `resizedWidth × resizedHeight`; then `window` of that result is kept.
public struct ResizePlan: Equatable, Sendable {
    /// The pixels of the decoded image that are resized (a crop, or the whole image).
    public var sourceRegion: PixelRegion
    /// The width the source region is resized to.
    public var resizedWidth: Int
    /// The height the source region is resized to.
    public var resizedHeight: Int
    /// The part of the resized image that is the output (e.g. a centre crop); its size is the output size.
    public var window: PixelRegion
    /// Whether the output is mirrored left to right.
    public var flipHorizontally: Bool
    /// The resize filter (bilinear unless a transform chooses otherwise).
    public var filter: ResamplingFilter

    /// Creates a plan.
    public init(sourceRegion: PixelRegion, resizedWidth: Int, resizedHeight: Int, window: PixelRegion,
                flipHorizontally: Bool, filter: ResamplingFilter = .bilinear) {
        self.sourceRegion = sourceRegion
        self.resizedWidth = resizedWidth
        self.resizedHeight = resizedHeight
        self.window = window
        self.flipHorizontally = flipHorizontally
        self.filter = filter
    }
}
