import BNN

/// The embedded default dataset: small RGB images of shapes and patterns in a few classes, generated
/// deterministically from a seed, so training runs out of the box with no files.
///
/// Each image has a random background colour with pixel noise and a shape or pattern in a random
/// foreground colour at a random position and scale. A small Bi-Real Net learns it to high accuracy in
/// a few epochs, which makes it a smoke test of the whole training path.
public enum SyntheticShapes {
    /// The class names, in label order.
    public static let classNames = ["circle", "square", "triangle", "cross", "ring",
                                    "horizontal stripes", "vertical stripes", "checkerboard"]

    /// `count` images of `size`×`size` pixels with balanced labels (label = index modulo the class count).
    public static func images(count: Int, size: Int = 32, seed: UInt64) -> (images: [RGBImage], labels: [Int]) {
        precondition(count >= 0 && size >= 8, "SyntheticShapes: count must be ≥ 0 and size ≥ 8")
        var images: [RGBImage] = []
        images.reserveCapacity(count)
        let labels = (0..<count).map { $0 % classNames.count }
        for index in 0..<count {
            var g = SeededGenerator(seed: seed &* 0x9E37_79B9 &+ UInt64(index))
            images.append(render(label: labels[index], size: size, generator: &g))
        }
        return (images, labels)
    }

    /// An ``InMemoryImageSource`` of ``images(count:size:seed:)``.
    public static func source(count: Int, size: Int = 32, seed: UInt64) throws -> InMemoryImageSource {
        let (images, labels) = images(count: count, size: size, seed: seed)
        return try InMemoryImageSource(images: images, labels: labels, classCount: classNames.count)
    }

    static func render(label: Int, size: Int, generator g: inout SeededGenerator) -> RGBImage {
        func color(bright: Bool) -> [Float] {
            (0..<3).map { _ in bright ? 150 + 105 * g.nextUnitFloat() : 90 * g.nextUnitFloat() }
        }
        // Foreground and background of clearly different brightness, in either order.
        var foreground = color(bright: true), background = color(bright: false)
        if g.nextUnitFloat() < 0.5 { swap(&foreground, &background) }
        let s = Float(size)
        let centerX = s * (0.35 + 0.3 * g.nextUnitFloat()), centerY = s * (0.35 + 0.3 * g.nextUnitFloat())
        let radius = s * (0.22 + 0.12 * g.nextUnitFloat())
        let period = s / Float(3 + Int(g.nextUnitFloat() * 3))
        let phase = g.nextUnitFloat() * period
        var pixels = [UInt8](repeating: 0, count: size * size * 3)
        for y in 0..<size {
            for x in 0..<size {
                let u = (Float(x) + 0.5 - centerX) / radius, v = (Float(y) + 0.5 - centerY) / radius
                let inside: Bool
                switch label {
                case 0: inside = u * u + v * v <= 1
                case 1: inside = max(abs(u), abs(v)) <= 0.8
                case 2: inside = v >= -0.9 && v <= 0.9 && abs(u) <= (v + 0.9) * 0.5
                case 3: inside = (abs(u) <= 0.28 && abs(v) <= 0.95) || (abs(v) <= 0.28 && abs(u) <= 0.95)
                case 4: let r = (u * u + v * v).squareRoot(); inside = r >= 0.55 && r <= 1
                case 5: inside = Int(((Float(y) + phase) / period * 2).rounded(.down)) % 2 == 0
                case 6: inside = Int(((Float(x) + phase) / period * 2).rounded(.down)) % 2 == 0
                default:
                    inside = (Int(((Float(x) + phase) / period * 2).rounded(.down))
                              + Int(((Float(y) + phase) / period * 2).rounded(.down))) % 2 == 0
                }
                let base = inside ? foreground : background
                for c in 0..<3 {
                    let noisy = base[c] + 24 * (g.nextUnitFloat() - 0.5)
                    pixels[(y * size + x) * 3 + c] = UInt8(max(0, min(255, noisy)))
                }
            }
        }
        return RGBImage(width: size, height: size, pixels: pixels)
    }
}
