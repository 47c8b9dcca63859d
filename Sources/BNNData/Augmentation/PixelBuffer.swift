/// A working 8-bit RGB image of the loader: `width × height` interleaved R, G, B bytes in ``pixels``, and a
/// scratch buffer of the same size that operations which cannot work in place write into before the two
/// are swapped. Owned by whoever allocated it (``deallocate()``); not copied on assignment.
public struct PixelBuffer {
    /// Width in pixels.
    public let width: Int
    /// Height in pixels.
    public let height: Int
    /// The current pixels, row-major, 3 bytes each.
    public private(set) var pixels: UnsafeMutablePointer<UInt8>
    /// Scratch of the same size.
    private(set) var scratch: UnsafeMutablePointer<UInt8>

    /// Allocates an uninitialised `width × height` buffer (both sides > 0).
    public init(width: Int, height: Int) {
        precondition(width > 0 && height > 0, "PixelBuffer: empty size \(width)x\(height)")
        self.width = width
        self.height = height
        pixels = .allocate(capacity: width * height * 3)
        scratch = .allocate(capacity: width * height * 3)
    }

    /// A buffer holding a copy of `image`.
    public init(_ image: RGBImage) {
        self.init(width: image.width, height: image.height)
        image.pixels.withUnsafeBufferPointer { pixels.update(from: $0.baseAddress!, count: byteCount) }
    }

    /// The number of bytes of ``pixels``.
    public var byteCount: Int { width * height * 3 }

    /// A copy of the pixels as an image.
    public var image: RGBImage {
        RGBImage(width: width, height: height, pixels: Array(UnsafeBufferPointer(start: pixels, count: byteCount)))
    }

    /// Frees both buffers.
    public func deallocate() {
        pixels.deallocate()
        scratch.deallocate()
    }

    /// Makes the scratch the current pixels (after an operation wrote its result there).
    mutating func swapScratch() { swap(&pixels, &scratch) }

    /// Mirrors every row left to right in place.
    mutating func mirror() {
        for y in 0..<height {
            var left = pixels + y * width * 3, right = left + (width - 1) * 3
            while left < right {
                for c in 0..<3 { (left[c], right[c]) = (right[c], left[c]) }
                left += 3
                right -= 3
            }
        }
    }
}
