/// Pillow's affine `Image.transform` of an RGB image with a fill colour, reproduced path for path:
/// nearest through `ImagingScaleAffine` (no shear or rotation) or the 16.16 fixed-point `affine_fixed`,
/// bilinear and bicubic through `ImagingGenericTransform` with its `bilinear_filter32RGB` /
/// `bicubic_filter32RGB` (edge pixels clamped, results truncated).
enum AffineWarp {
    static func apply(_ image: inout PixelBuffer, matrix a: [Double], filter: ResamplingFilter, fill: [UInt8]) {
        precondition(a.count == 6 && fill.count == 3, "AffineWarp: 6 coefficients and 3 fill bytes")
        let w = image.width, h = image.height, src = image.pixels, out = image.scratch
        for i in stride(from: 0, to: image.byteCount, by: 3) {
            out[i] = fill[0]; out[i + 1] = fill[1]; out[i + 2] = fill[2]
        }
        switch filter {
        case .nearest where a[1] == 0 && a[3] == 0: scale(src, w, h, a, out)
        case .nearest: fixedPoint(src, w, h, a, out)
        case .bilinear, .bicubic:
            for y in 0..<h {
                for x in 0..<w {
                    let xi = Double(x) + 0.5, yi = Double(y) + 0.5
                    let u = a[0] * xi + a[1] * yi + a[2], v = a[3] * xi + a[4] * yi + a[5]
                    guard u >= 0 && u < Double(w) && v >= 0 && v < Double(h) else { continue }
                    let o = out + (y * w + x) * 3
                    if filter == .bilinear { bilinear(src, w, h, u, v, o) } else { bicubic(src, w, h, u, v, o) }
                }
            }
        }
        image.swapScratch()
    }

    /// Pillow's `COORD`: −1 for negative values, else truncation.
    @inline(__always) private static func coordinate(_ v: Double) -> Int { v < 0 ? -1 : Int(v) }

    private static func scale(_ src: UnsafePointer<UInt8>, _ w: Int, _ h: Int, _ a: [Double],
                              _ out: UnsafeMutablePointer<UInt8>) {
        var columns = [Int](repeating: -1, count: w)
        var xo = a[2] + a[0] * 0.5
        for x in 0..<w {
            let xin = coordinate(xo)
            if xin >= 0 && xin < w { columns[x] = xin }
            xo += a[0]
        }
        var yo = a[5] + a[4] * 0.5
        for y in 0..<h {
            let yi = coordinate(yo)
            if yi >= 0 && yi < h {
                for x in 0..<w where columns[x] >= 0 {
                    let s = src + (yi * w + columns[x]) * 3, o = out + (y * w + x) * 3
                    o[0] = s[0]; o[1] = s[1]; o[2] = s[2]
                }
            }
            yo += a[4]
        }
    }

    private static func fixedPoint(_ src: UnsafePointer<UInt8>, _ w: Int, _ h: Int, _ a: [Double],
                                   _ out: UnsafeMutablePointer<UInt8>) {
        func fix(_ v: Double) -> Int32 { Int32(truncatingIfNeeded: Int((v * 65536 + 0.5).rounded(.down))) }
        let a0 = fix(a[0]), a1 = fix(a[1]), a3 = fix(a[3]), a4 = fix(a[4])
        var a2 = fix(a[2] + a[0] * 0.5 + a[1] * 0.5), a5 = fix(a[5] + a[3] * 0.5 + a[4] * 0.5)
        for y in 0..<h {
            var xx = a2, yy = a5
            for x in 0..<w {
                let xin = Int(xx >> 16), yin = Int(yy >> 16)
                if xin >= 0 && xin < w && yin >= 0 && yin < h {
                    let s = src + (yin * w + xin) * 3, o = out + (y * w + x) * 3
                    o[0] = s[0]; o[1] = s[1]; o[2] = s[2]
                }
                xx &+= a0
                yy &+= a3
            }
            a2 &+= a1
            a5 &+= a4
        }
    }

    @inline(__always) private static func clamp(_ v: Int, _ limit: Int) -> Int { v < 0 ? 0 : v < limit ? v : limit - 1 }

    private static func bilinear(_ src: UnsafePointer<UInt8>, _ w: Int, _ h: Int, _ u: Double, _ v: Double,
                                 _ out: UnsafeMutablePointer<UInt8>) {
        let xf = u - 0.5, yf = v - 0.5
        let x = Int(xf.rounded(.down)), y = Int(yf.rounded(.down))
        let dx = xf - Double(x), dy = yf - Double(y)
        let x0 = clamp(x, w) * 3, x1 = clamp(x + 1, w) * 3
        let row0 = src + clamp(y, h) * w * 3
        let hasNext = y + 1 >= 0 && y + 1 < h
        let row1 = hasNext ? src + (y + 1) * w * 3 : row0
        for c in 0..<3 {
            let a0 = Double(row0[x0 + c]), b0 = Double(row0[x1 + c])
            let v1 = a0 + (b0 - a0) * dx
            var v2 = v1
            if hasNext {
                let a1 = Double(row1[x0 + c]), b1 = Double(row1[x1 + c])
                v2 = a1 + (b1 - a1) * dx
            }
            out[c] = UInt8(v1 + (v2 - v1) * dy)
        }
    }

    @inline(__always) private static func cubic(_ v1: Double, _ v2: Double, _ v3: Double, _ v4: Double,
                                                _ d: Double) -> Double {
        let p1 = v2, p2 = -v1 + v3, p3 = 2 * (v1 - v2) + v3 - v4, p4 = -v1 + v2 - v3 + v4
        return p1 + d * (p2 + d * (p3 + d * p4))
    }

    private static func bicubic(_ src: UnsafePointer<UInt8>, _ w: Int, _ h: Int, _ u: Double, _ v: Double,
                                _ out: UnsafeMutablePointer<UInt8>) {
        let xf = u - 0.5, yf = v - 0.5
        let x = Int(xf.rounded(.down)) - 1, y = Int(yf.rounded(.down)) - 1
        let dx = xf - Double(x + 1), dy = yf - Double(y + 1)
        let xs = (clamp(x, w) * 3, clamp(x + 1, w) * 3, clamp(x + 2, w) * 3, clamp(x + 3, w) * 3)
        for c in 0..<3 {
            func rowValue(_ r: UnsafePointer<UInt8>) -> Double {
                cubic(Double(r[xs.0 + c]), Double(r[xs.1 + c]), Double(r[xs.2 + c]), Double(r[xs.3 + c]), dx)
            }
            let v1 = rowValue(src + clamp(y, h) * w * 3)
            let v2 = y + 1 >= 0 && y + 1 < h ? rowValue(src + (y + 1) * w * 3) : v1
            let v3 = y + 2 >= 0 && y + 2 < h ? rowValue(src + (y + 2) * w * 3) : v2
            let v4 = y + 3 >= 0 && y + 3 < h ? rowValue(src + (y + 3) * w * 3) : v3
            let value = cubic(v1, v2, v3, v4, dy)
            out[c] = value <= 0 ? 0 : value >= 255 ? 255 : UInt8(value)
        }
    }
}
