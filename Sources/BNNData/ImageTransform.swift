import BNN

/// A per-image transform of the loader: geometry from ``plan(width:height:generator:)``, then (when
/// ``augmentsBytes``) ``augment(_:generator:)`` on the resized, mirrored 8-bit pixels, then
/// normalisation, then ``augment(_:width:height:generator:)`` on the normalised floats.
///
/// Implementations must be deterministic functions of the image size and the generator, which the
/// loader derives from (seed, epoch, sample index).
public protocol ImageTransform: Sendable {
    /// The output width in pixels.
    var outputWidth: Int { get }
    /// The output height in pixels.
    var outputHeight: Int { get }
    /// The per-channel normalisation applied after resizing.
    var normalization: Normalization { get }
    /// How far a JPEG may be reduced by DCT scaling before resizing: the reduced source must stay at
    /// least this many times the resized size on both axes (`nil` decodes at full size).
    var dctReductionGap: Double? { get }
    /// The geometry for an image of `width × height` pixels.
    func plan(width: Int, height: Int, generator: inout SeededGenerator) -> ResizePlan
    /// Changes the normalised H×W×3 floats in place (e.g. random erasing).
    func augment(_ pixels: UnsafeMutableBufferPointer<Float>, width: Int, height: Int,
                 generator: inout SeededGenerator)

    /// Whether ``augment(_:generator:)`` changes the 8-bit pixels (then the mirroring is applied to the
    /// bytes before it rather than during normalisation).
    var augmentsBytes: Bool { get }
    /// Changes the resized, already mirrored 8-bit pixels in place (AutoAugment, RandAugment).
    func augment(_ image: inout PixelBuffer, generator: inout SeededGenerator)
}

extension ImageTransform {
    /// No byte augmentation by default.
    public var augmentsBytes: Bool { false }
    /// Does nothing by default.
    public func augment(_ image: inout PixelBuffer, generator: inout SeededGenerator) {}
}
