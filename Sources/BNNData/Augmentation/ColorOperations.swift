/// The colour operations of ``PixelOperation``, each with Pillow's integer and `Float` arithmetic.
enum ColorOperations {
    /// Applies one table per channel in place.
    static func lookup(_ image: inout PixelBuffer, table red: [UInt8], _ green: [UInt8], _ blue: [UInt8]) {
        let p = image.pixels
        red.withUnsafeBufferPointer { r in
            green.withUnsafeBufferPointer { g in
                blue.withUnsafeBufferPointer { b in
                    for i in stride(from: 0, to: image.byteCount, by: 3) {
                        p[i] = r[Int(p[i])]
                        p[i + 1] = g[Int(p[i + 1])]
                        p[i + 2] = b[Int(p[i + 2])]
                    }
                }
            }
        }
    }

    /// The 256-bin histogram of each channel (`Image.histogram()` of an RGB image).
    static func histograms(_ image: PixelBuffer) -> [[Int]] {
        var counts = [Int](repeating: 0, count: 768)
        let p = image.pixels
        counts.withUnsafeMutableBufferPointer { h in
            for i in stride(from: 0, to: image.byteCount, by: 3) {
                h[Int(p[i])] += 1
                h[256 + Int(p[i + 1])] += 1
                h[512 + Int(p[i + 2])] += 1
            }
        }
        return (0..<3).map { Array(counts[($0 * 256)..<($0 * 256 + 256)]) }
    }

    /// `ImageOps.autocontrast` without cutoff: `lut[i] = int(i · scale + offset)` clipped, per channel.
    static func autoContrast(_ image: inout PixelBuffer) {
        let tables = histograms(image).map { h -> [UInt8] in
            guard let lo = h.firstIndex(where: { $0 != 0 }), let hi = h.lastIndex(where: { $0 != 0 }), hi > lo else {
                return identity
            }
            let scale = 255.0 / Double(hi - lo), offset = -Double(lo) * scale
            return (0..<256).map { UInt8(min(max(Int(Double($0) * scale + offset), 0), 255)) }
        }
        lookup(&image, table: tables[0], tables[1], tables[2])
    }

    /// `ImageOps.equalize`: per channel, `step = (n − count of the last used value) // 255` and
    /// `lut[i] = (step // 2 + Σ_{j<i} h[j]) // step` (clipped at 255, as `Image.point` does).
    static func equalize(_ image: inout PixelBuffer) {
        let tables = histograms(image).map { h -> [UInt8] in
            let used = h.filter { $0 != 0 }
            guard used.count > 1 else { return identity }
            let step = (used.reduce(0, +) - used[used.count - 1]) / 255
            guard step > 0 else { return identity }
            var n = step / 2, table = [UInt8](repeating: 0, count: 256)
            for i in 0..<256 {
                table[i] = UInt8(min(n / step, 255))
                n += h[i]
            }
            return table
        }
        lookup(&image, table: tables[0], tables[1], tables[2])
    }

    static let identity: [UInt8] = (0...255).map { UInt8($0) }

    /// Pillow's RGB → L: `(19595 r + 38470 g + 7471 b + 0x8000) >> 16`.
    @inline(__always)
    static func luminance(_ p: UnsafePointer<UInt8>) -> UInt8 {
        UInt8(truncatingIfNeeded: (Int32(p[0]) * 19595 + Int32(p[1]) * 38470 + Int32(p[2]) * 7471 + 0x8000) >> 16)
    }

    /// `ImageEnhance.<kind>(img).enhance(factor)`: the degenerate image into the scratch, then
    /// `Image.blend(degenerate, image, Float(factor))`.
    static func enhance(_ image: inout PixelBuffer, _ kind: PixelOperation.Enhancement, factor: Double) {
        let alpha = Float(factor)
        if alpha == 1 { return }
        let p = image.pixels, d = image.scratch, count = image.byteCount
        switch kind {
        case .brightness:
            d.update(repeating: 0, count: count)
        case .color:
            for i in stride(from: 0, to: count, by: 3) {
                let l = luminance(p + i)
                d[i] = l; d[i + 1] = l; d[i + 2] = l
            }
        case .contrast:
            var total = 0
            for i in stride(from: 0, to: count, by: 3) { total += Int(luminance(p + i)) }
            let mean = Int(Double(total) / Double(image.width * image.height) + 0.5)
            d.update(repeating: UInt8(min(max(mean, 0), 255)), count: count)
        case .sharpness:
            smooth(image, into: d)
        }
        if alpha == 0 {
            image.swapScratch()
            return
        }
        let extrapolating = !(alpha >= 0 && alpha <= 1)
        for i in 0..<count {
            let a = Int32(d[i]), b = Int32(p[i])
            let value = Float(a) + alpha * Float(b - a)
            if extrapolating {
                p[i] = value <= 0 ? 0 : value >= 255 ? 255 : UInt8(value)
            } else {
                p[i] = UInt8(value)
            }
        }
    }

    /// Pillow's `ImageFilter.SMOOTH` (3×3 kernel 1 1 1 / 1 5 1 / 1 1 1, divided by 13) into `output`: border
    /// rows and columns copied, inner sums in `Float` from 0.5, clipped and truncated.
    static func smooth(_ image: PixelBuffer, into output: UnsafeMutablePointer<UInt8>) {
        let w = image.width, h = image.height, row = w * 3, p = image.pixels
        output.update(from: p, count: image.byteCount)
        guard w >= 3 && h >= 3 else { return }
        let edge = Float(1.0 / 13.0), centre = Float(5.0 / 13.0)
        for y in 1..<(h - 1) {
            let above = p + (y - 1) * row, here = p + y * row, below = p + (y + 1) * row
            let out = output + y * row
            for i in 3..<(row - 3) {
                var sum = Float(0.5)
                sum += Float(below[i - 3]) * edge + Float(below[i]) * edge + Float(below[i + 3]) * edge
                sum += Float(here[i - 3]) * edge + Float(here[i]) * centre + Float(here[i + 3]) * edge
                sum += Float(above[i - 3]) * edge + Float(above[i]) * edge + Float(above[i + 3]) * edge
                out[i] = sum <= 0 ? 0 : sum >= 255 ? 255 : UInt8(sum)
            }
        }
    }
}
