import CJPEG
import CPNG

/// Container formats the decoder reads, recognised by their leading bytes (never by file name).
public enum ImageFormat: String, Sendable {
    /// JPEG (baseline or progressive; gray, YCbCr, RGB, CMYK or YCCK).
    case jpeg
    /// PNG (any bit depth and colour type).
    case png
}

/// The format and full size of an encoded image, read from its header.
public struct EncodedImageInfo: Equatable, Sendable {
    /// The detected container format.
    public let format: ImageFormat
    /// Width in pixels.
    public let width: Int
    /// Height in pixels.
    public let height: Int
}

/// Decodes JPEG (libjpeg-turbo) and PNG (libpng) files held in memory to 8-bit RGB.
///
/// The format comes from the magic bytes, so a PNG named `.JPEG` (or the reverse) decodes correctly.
/// Gray, CMYK/YCCK (Adobe inverted) JPEGs and palette, gray, 16-bit and alpha PNGs all become RGB the
/// way Pillow's `Image.convert("RGB")` makes them. A decoding failure never ends the process: it throws
/// ``BNNDataError/badFile(path:reason:)`` naming `path`.
public enum ImageDecoder {
    /// Images with more pixels than this are rejected as bad files (guards memory against corrupt headers).
    public static let maximumPixelCount = 1 << 28

    /// The format of `bytes` by its signature, or `nil` when it is neither JPEG nor PNG.
    public static func format(of bytes: [UInt8]) -> ImageFormat? {
        if bytes.count >= 3, bytes[0] == 0xFF, bytes[1] == 0xD8, bytes[2] == 0xFF { return .jpeg }
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        if bytes.count >= 8, Array(bytes[0..<8]) == png { return .png }
        return nil
    }

    /// Reads the format and size from the header of `bytes`.
    ///
    /// - Parameters:
    ///   - bytes: the whole encoded file.
    ///   - path: the file name used in error messages.
    /// - Throws: ``BNNDataError/badFile(path:reason:)`` when the data is empty, not JPEG/PNG, the header is
    ///   corrupt or the image exceeds ``maximumPixelCount``.
    public static func info(of bytes: [UInt8], path: String) throws -> EncodedImageInfo {
        guard !bytes.isEmpty else { throw BNNDataError.badFile(path: path, reason: "empty file (0 bytes)") }
        guard let format = format(of: bytes) else {
            throw BNNDataError.badFile(path: path, reason: "not a JPEG or PNG file (unrecognised signature)")
        }
        var message = [CChar](repeating: 0, count: 256)
        var width = 0, height = 0
        switch format {
        case .jpeg:
            var header = bnn_jpeg_info()
            let status = bytes.withUnsafeBufferPointer { bnn_jpeg_read_info($0.baseAddress, $0.count, &header, &message) }
            guard status == 0 else { throw badFile(path, message) }
            width = Int(header.width)
            height = Int(header.height)
        case .png:
            var w: UInt32 = 0, h: UInt32 = 0
            let status = bytes.withUnsafeBufferPointer { bnn_png_read_size($0.baseAddress, $0.count, &w, &h, &message) }
            guard status == 0 else { throw badFile(path, message) }
            width = Int(w)
            height = Int(h)
        }
        guard width > 0, height > 0, width * height <= maximumPixelCount else {
            throw BNNDataError.badFile(path: path, reason: "unsupported image size \(width)x\(height)")
        }
        return EncodedImageInfo(format: format, width: width, height: height)
    }

    /// Decodes the whole image at full size.
    ///
    /// - Throws: ``BNNDataError/badFile(path:reason:)`` naming `path`.
    public static func decode(_ bytes: [UInt8], path: String) throws -> RGBImage {
        let info = try info(of: bytes, path: path)
        return try decode(bytes, info: info, path: path,
                          region: PixelRegion(x: 0, y: 0, width: info.width, height: info.height), scale: 8)
    }

    /// Decodes the pixels of `region` of the image reduced by `scale`/8 (JPEG DCT scaling; `scale` must be
    /// 8 for PNG). `region` is in the coordinates of the reduced image, whose size is
    /// ``scaledSize(of:scale:)``.
    static func decode(_ bytes: [UInt8], info: EncodedImageInfo, path: String, region: PixelRegion,
                       scale: Int) throws -> RGBImage {
        precondition((1...8).contains(scale) && (info.format == .jpeg || scale == 8), "ImageDecoder: bad scale \(scale)")
        var message = [CChar](repeating: 0, count: 256)
        var pixels = [UInt8](repeating: 0, count: region.width * region.height * 3)
        switch info.format {
        case .jpeg:
            let status = bytes.withUnsafeBufferPointer { source in
                pixels.withUnsafeMutableBufferPointer { out in
                    bnn_jpeg_decode_region(source.baseAddress, source.count, UInt32(scale), UInt32(region.x),
                                           UInt32(region.y), UInt32(region.width), UInt32(region.height),
                                           out.baseAddress, &message)
                }
            }
            guard status == 0 else { throw badFile(path, message) }
            return RGBImage(width: region.width, height: region.height, pixels: pixels)
        case .png:
            var full = region.x == 0 && region.y == 0 && region.width == info.width && region.height == info.height
                ? pixels : [UInt8](repeating: 0, count: info.width * info.height * 3)
            let status = bytes.withUnsafeBufferPointer { source in
                full.withUnsafeMutableBufferPointer { out in
                    bnn_png_decode_rgb(source.baseAddress, source.count, UInt32(info.width), UInt32(info.height),
                                       out.baseAddress, &message)
                }
            }
            guard status == 0 else { throw badFile(path, message) }
            let image = RGBImage(width: info.width, height: info.height, pixels: full)
            return region.width == info.width && region.height == info.height ? image : image.cropped(to: region)
        }
    }

    /// The size of the image after JPEG DCT scaling by `scale`/8 (libjpeg rounds up).
    static func scaledSize(of info: EncodedImageInfo, scale: Int) -> (width: Int, height: Int) {
        (Int(bnn_jpeg_scaled_dimension(UInt32(info.width), UInt32(scale))),
         Int(bnn_jpeg_scaled_dimension(UInt32(info.height), UInt32(scale))))
    }

    private static func badFile(_ path: String, _ message: [CChar]) -> BNNDataError {
        let text = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return .badFile(path: path, reason: text.isEmpty ? "decoder error" : text)
    }
}
