/// A rectangle of whole pixels: columns `x ..< x + width`, rows `y ..< y + height`.
public struct PixelRegion: Equatable, Sendable {
    /// The first column.
    public var x: Int
    /// The first row.
    public var y: Int
    /// The number of columns.
    public var width: Int
    /// The number of rows.
    public var height: Int

    /// Creates a region from its top-left corner and size.
    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }
}

extension RGBImage {
    /// The pixels of `region`, which must lie inside the image.
    public func cropped(to region: PixelRegion) -> RGBImage {
        precondition(region.x >= 0 && region.y >= 0 && region.width > 0 && region.height > 0
                     && region.x + region.width <= width && region.y + region.height <= height,
                     "RGBImage: crop \(region) outside \(width)x\(height)")
        var out = [UInt8](repeating: 0, count: region.width * region.height * 3)
        let rowBytes = region.width * 3
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for row in 0..<region.height {
                    let from = ((region.y + row) * width + region.x) * 3
                    for i in 0..<rowBytes { dst[row * rowBytes + i] = src[from + i] }
                }
            }
        }
        return RGBImage(width: region.width, height: region.height, pixels: out)
    }
}
