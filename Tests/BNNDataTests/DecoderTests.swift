import Foundation
import BNN
import Testing
@testable import BNNData

@Suite("Image decoding")
struct DecoderTests {
    /// Every fixture decodes to Pillow's `convert("RGB")` (libjpeg-turbo versions may differ by 1 level in
    /// rare pixels: at most 1 everywhere, exact on ≥ 99%).
    @Test func matchesPillow() throws {
        for image in try Fixtures.manifest().images {
            let bytes = try Fixtures.bytes("images/" + image.file)
            let decoded = try ImageDecoder.decode(bytes, path: image.file)
            #expect(decoded.width == image.width && decoded.height == image.height, "\(image.file)")
            let expected = try Fixtures.bytes("decoded/" + image.file + ".rgb")
            let (outside, maximum) = Fixtures.compare(decoded.pixels, expected, tolerance: 0)
            #expect(maximum <= 1 && outside <= 0.01, "\(image.file) (\(image.mode)): max diff \(maximum), \(outside) differ")
        }
    }

    @Test func detectsFormatByContent() throws {
        let png = try Fixtures.bytes("images/rgb.png")
        let jpeg = try Fixtures.bytes("images/baseline.jpg")
        #expect(ImageDecoder.format(of: png) == .png)
        #expect(ImageDecoder.format(of: jpeg) == .jpeg)
        #expect(try ImageDecoder.info(of: png, path: "x.JPEG").format == .png)
    }

    /// Region decoding with jpeg_crop_scanline / jpeg_skip_scanlines equals cropping a full decode, at full
    /// size and at reduced DCT scales.
    @Test(arguments: [8, 5, 4, 1]) func regionDecodeEqualsCrop(scale: Int) throws {
        for file in ["baseline.jpg", "baseline444.jpg", "progressive.jpg", "gray.jpg", "cmyk.jpg"] {
            let bytes = try Fixtures.bytes("images/" + file)
            let info = try ImageDecoder.info(of: bytes, path: file)
            let (width, height) = ImageDecoder.scaledSize(of: info, scale: scale)
            let full = try ImageDecoder.decode(bytes, info: info, path: file,
                                               region: PixelRegion(x: 0, y: 0, width: width, height: height), scale: scale)
            var generator = SeededGenerator(seed: 11)
            for _ in 0..<25 {
                let w = 1 + generator.nextIndex(below: width)
                let h = 1 + generator.nextIndex(below: height)
                let region = PixelRegion(x: generator.nextIndex(below: width - w + 1),
                                         y: generator.nextIndex(below: height - h + 1), width: w, height: h)
                let part = try ImageDecoder.decode(bytes, info: info, path: file, region: region, scale: scale)
                #expect(part == full.cropped(to: region), "\(file) at \(scale)/8, region \(region)")
            }
        }
    }

    @Test func badFilesThrowTypedErrors() throws {
        let jpeg = try Fixtures.bytes("images/baseline.jpg")
        let png = try Fixtures.bytes("images/rgb.png")
        let cases: [(String, [UInt8])] = [
            ("empty.jpg", []),
            ("text.jpg", Array("hello, not an image".utf8)),
            ("truncated.jpg", Array(jpeg.prefix(jpeg.count / 2))),
            ("header-only.jpg", Array(jpeg.prefix(20))),
            ("truncated.png", Array(png.prefix(png.count / 2))),
            ("gif.png", Array("GIF89a\u{1}\u{0}\u{1}\u{0}".utf8)),
        ]
        for (name, bytes) in cases {
            #expect(throws: BNNDataError.self, "\(name)") { _ = try ImageDecoder.decode(bytes, path: name) }
            do { _ = try ImageDecoder.decode(bytes, path: name) } catch let error as BNNDataError {
                guard case .badFile(let path, _) = error else { Issue.record("\(name): \(error)"); continue }
                #expect(path == name)
            }
        }
    }
}
