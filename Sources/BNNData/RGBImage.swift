/// An 8-bit RGB image in memory: `height` rows of `width` pixels, each 3 bytes (R, G, B), row-major
/// with no padding (`pixels.count == width * height * 3`).
public struct RGBImage: Equatable, Sendable {
    /// Width in pixels.
    public let width: Int
    /// Height in pixels.
    public let height: Int
    /// Interleaved R, G, B bytes, row by row.
    public var pixels: [UInt8]

    /// Creates an image from interleaved RGB bytes.
    ///
    /// - Precondition: `width, height > 0` and `pixels.count == width * height * 3`.
    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width > 0 && height > 0, "RGBImage: empty size \(width)x\(height)")
        precondition(pixels.count == width * height * 3,
                     "RGBImage: \(pixels.count) bytes do not fill \(width)x\(height)x3")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// The red, green and blue bytes at column `x`, row `y` (bounds-checked; not for hot loops).
    public subscript(x: Int, y: Int) -> (red: UInt8, green: UInt8, blue: UInt8) {
        precondition(x >= 0 && x < width && y >= 0 && y < height, "RGBImage: pixel (\(x), \(y)) outside \(width)x\(height)")
        let i = (y * width + x) * 3
        return (pixels[i], pixels[i + 1], pixels[i + 2])
    }
}
