/// One operation of AutoAugment / RandAugment on 8-bit RGB pixels, with the arithmetic of the Pillow
/// call timm makes for it (so results equal Pillow's byte for byte on the fixtures).
///
/// | case | Pillow |
/// |---|---|
/// | ``lookup(_:)`` | `Image.point(lut)` (invert, posterize, solarize, timm's solarize-add) |
/// | ``autoContrast`` | `ImageOps.autocontrast(img)` |
/// | ``equalize`` | `ImageOps.equalize(img)` |
/// | ``enhance(_:factor:)`` | `ImageEnhance.<Color, Contrast, Brightness, Sharpness>(img).enhance(factor)` |
/// | ``affine(_:filter:fill:)`` | `img.transform(size, Image.AFFINE, matrix, filter, fillcolor=fill)` (also `rotate`) |
public enum PixelOperation: Equatable, Sendable {
    /// The image Pillow's `ImageEnhance` blends with: `Image.blend(degenerate, image, factor)`.
    public enum Enhancement: Equatable, Sendable {
        /// Grayscale (`convert("L").convert("RGB")`): `Color`.
        case color
        /// The rounded mean luminance everywhere: `Contrast`.
        case contrast
        /// Black: `Brightness`.
        case brightness
        /// Pillow's 3×3 `SMOOTH` filter (borders kept): `Sharpness`.
        case sharpness
    }

    /// The same 256-entry table for each channel.
    case lookup([UInt8])
    /// Per channel, stretches the darkest..brightest value to 0...255.
    case autoContrast
    /// Per channel histogram equalisation.
    case equalize
    /// A blend of the image with a degenerate image by `factor` (0 the degenerate image, 1 the original,
    /// beyond 1 extrapolated and clipped).
    case enhance(Enhancement, factor: Double)
    /// Inverse-mapped affine warp: output pixel centre (x + ½, y + ½) reads the input at
    /// (a·x + b·y + c, d·x + e·y + f) for `matrix` (a, b, c, d, e, f); outside pixels take `fill`.
    case affine(_ matrix: [Double], filter: ResamplingFilter, fill: [UInt8])

    /// `ImageOps.invert`.
    public static var invert: PixelOperation { .lookup((0...255).map { 255 - UInt8($0) }) }

    /// `ImageOps.posterize(img, bits)`: keeps the top `bits` bits (0...8; 0 gives black, as Pillow before
    /// version 13, which now rejects 0).
    public static func posterize(bits: Int) -> PixelOperation {
        precondition((0...8).contains(bits), "posterize: bits in 0...8")
        let mask = UInt8(truncatingIfNeeded: ~((1 << (8 - bits)) - 1))
        return .lookup((0...255).map { UInt8($0) & mask })
    }

    /// `ImageOps.solarize(img, threshold)`: values ≥ `threshold` are inverted.
    public static func solarize(threshold: Int) -> PixelOperation {
        .lookup((0...255).map { $0 < threshold ? UInt8($0) : UInt8(255 - $0) })
    }

    /// timm's `solarize_add`: values below `threshold` get `add` added (clipped at 255).
    public static func solarizeAdd(_ add: Int, threshold: Int = 128) -> PixelOperation {
        .lookup((0...255).map { $0 < threshold ? UInt8(min(255, $0 + add)) : UInt8($0) })
    }

    /// `img.rotate(degrees, filter, fillcolor=fill)` about the image centre (counter-clockwise degrees).
    public static func rotate(degrees: Double, width: Int, height: Int, filter: ResamplingFilter,
                              fill: [UInt8]) -> PixelOperation {
        // Python's `-math.radians(degrees % 360)`.
        let wrapped = (degrees.truncatingRemainder(dividingBy: 360) + 360).truncatingRemainder(dividingBy: 360)
        let angle = -(wrapped * (Double.pi / 180))
        let cosine = roundedTo15Digits(_cos(angle)), sine = roundedTo15Digits(_sin(angle))
        var m = [cosine, sine, 0.0, -sine, cosine, 0.0]
        let cx = Double(width) / 2, cy = Double(height) / 2
        m[2] = m[0] * -cx + m[1] * -cy + 0.0
        m[5] = m[3] * -cx + m[4] * -cy + 0.0
        m[2] += cx
        m[5] += cy
        return .affine(m, filter: filter, fill: fill)
    }

    /// Python's `round(x, 15)`: the double nearest to `x` rounded to 15 decimals.
    private static func roundedTo15Digits(_ x: Double) -> Double {
        Double(String(format: "%.15f", x)) ?? x
    }

    /// Applies the operation to `image` in place.
    public func apply(to image: inout PixelBuffer) {
        switch self {
        case .lookup(let table): ColorOperations.lookup(&image, table: table, table, table)
        case .autoContrast: ColorOperations.autoContrast(&image)
        case .equalize: ColorOperations.equalize(&image)
        case .enhance(let kind, let factor): ColorOperations.enhance(&image, kind, factor: factor)
        case .affine(let matrix, let filter, let fill): AffineWarp.apply(&image, matrix: matrix, filter: filter, fill: fill)
        }
    }

    /// The operation applied to a copy of `image`.
    public func applied(to image: RGBImage) -> RGBImage {
        var buffer = PixelBuffer(image)
        defer { buffer.deallocate() }
        apply(to: &buffer)
        return buffer.image
    }
}

import Foundation
@inline(__always) func _cos(_ x: Double) -> Double { Foundation.cos(x) }
@inline(__always) func _sin(_ x: Double) -> Double { Foundation.sin(x) }
