import BNN

/// timm's `Mixup` (modes `batch`, `pair`, `elem`): every image is mixed with its mirror in the batch
/// (sample `i` with `n − 1 − i`), by blending (mixup) or by pasting a box (cutmix), and the targets
/// become the same blend of label-smoothed one-hot vectors.
///
/// Per draw (once per batch, pair or sample, see ``Mode``): with probability `probability` a λ is drawn — when both alphas are positive, cutmix is
/// chosen with probability `switchProbability` and λ ~ Beta(α, α) of the chosen mode; otherwise λ = 1
/// (targets are only smoothed). Cutmix draws a box of side ratio √(1 − λ) centred uniformly, clipped to
/// the image, and corrects λ to 1 − box area / image area. Soft targets are
/// `λ · onehot(y) + (1 − λ) · onehot(flip(y))` with on-value `1 − ε + ε/K`, off-value `ε/K`.
public struct Mixup: Equatable, Sendable {
    /// The mixup Beta parameter (`mix_up`); 0 disables blending.
    public var mixupAlpha: Double
    /// The cutmix Beta parameter (`cutmix`); 0 disables cutmix.
    public var cutmixAlpha: Double
    /// The chance of mixing a batch at all (`mixup_prob`).
    public var probability: Double
    /// The chance of cutmix rather than mixup when both are enabled (`switch_prob`).
    public var switchProbability: Double
    /// The label smoothing ε of the soft targets.
    public var labelSmoothing: Double
    /// The number of classes K of the soft targets.
    public var classCount: Int
    /// How many draws a batch gets (`mixup_mode`).
    public var mode: Mode

    /// timm's `mixup_mode`.
    public enum Mode: String, CaseIterable, Equatable, Sendable {
        /// One λ for the whole batch.
        case batch
        /// One λ per mirrored pair; both samples of a pair are mixed with each other.
        case pair
        /// One λ per sample, mixed with the unmodified mirror sample (an odd batch's middle sample
        /// mixes with itself).
        case elem
    }

    /// Creates the batch augmentation.
    ///
    /// - Throws: ``BNNDataError/invalidConfiguration(_:)`` when both alphas are 0, a probability is outside
    ///   0...1 or `classCount < 1`.
    public init(mixupAlpha: Double, cutmixAlpha: Double, probability: Double = 1, switchProbability: Double = 0.5,
                labelSmoothing: Double = 0.1, classCount: Int, mode: Mode = .batch) throws {
        guard mixupAlpha > 0 || cutmixAlpha > 0, mixupAlpha >= 0, cutmixAlpha >= 0 else {
            throw BNNDataError.invalidConfiguration("mixup needs mix_up > 0 or cutmix > 0 (got \(mixupAlpha), \(cutmixAlpha))")
        }
        guard (0...1).contains(probability), (0...1).contains(switchProbability), (0...1).contains(labelSmoothing),
              classCount >= 1 else {
            throw BNNDataError.invalidConfiguration(
                "mixup_prob \(probability), switch_prob \(switchProbability), smoothing \(labelSmoothing) must be in 0...1 "
                + "and classes (\(classCount)) at least 1")
        }
        self.mixupAlpha = mixupAlpha
        self.cutmixAlpha = cutmixAlpha
        self.probability = probability
        self.switchProbability = switchProbability
        self.labelSmoothing = labelSmoothing
        self.classCount = classCount
        self.mode = mode
    }

    /// Mixes an N×H×W×C batch in place and returns the N×K soft targets and the λ of every sample.
    ///
    /// ``Mode/batch`` draws one (λ, mixup or cutmix) per batch; ``Mode/pair`` one per mirrored pair
    /// (`i`, `n − 1 − i`), both samples mixed with each other's original; ``Mode/elem`` one per sample,
    /// which is mixed with the original of its mirror. Per draw: with probability ``probability`` a λ
    /// (and, with both alphas, cutmix with ``switchProbability``), else λ = 1.
    public func apply(to images: inout Tensor, labels: [Int], generator: inout SeededGenerator)
        -> (targets: Tensor, lambdas: [Double]) {
        precondition(images.rank == 4 && images.shape[0] == labels.count, "Mixup: images N×H×W×C with N labels")
        let n = labels.count
        var lambdas = [Double](repeating: 1, count: n)
        switch mode {
        case .batch:
            var (lambda, cutmix) = draw(&generator)
            if lambda != 1 {
                if cutmix {
                    let box = cutBox(images, lambda: lambda, generator: &generator)
                    lambda = box.lambda
                    for i in 0..<(n / 2) { swapBox(&images, i, n - 1 - i, box) }
                } else {
                    for i in 0..<(n / 2) { blendPair(&images, i, n - 1 - i, lambda) }
                }
            }
            lambdas = [Double](repeating: lambda, count: n)
        case .pair:
            for i in 0..<(n / 2) {
                var (lambda, cutmix) = draw(&generator)
                guard lambda != 1 else { continue }
                if cutmix {
                    let box = cutBox(images, lambda: lambda, generator: &generator)
                    lambda = box.lambda
                    swapBox(&images, i, n - 1 - i, box)
                } else {
                    blendPair(&images, i, n - 1 - i, lambda)
                }
                lambdas[i] = lambda
                lambdas[n - 1 - i] = lambda
            }
        case .elem:
            let originals = images
            for i in 0..<n {
                var (lambda, cutmix) = draw(&generator)
                guard lambda != 1 else { continue }
                if cutmix {
                    let box = cutBox(images, lambda: lambda, generator: &generator)
                    lambda = box.lambda
                    copyBox(from: originals, n - 1 - i, into: &images, i, box)
                } else {
                    blend(into: &images, i, with: originals, n - 1 - i, lambda)
                }
                lambdas[i] = lambda
            }
        }
        return (targets(labels, lambdas: lambdas), lambdas)
    }

    /// One draw of timm's `_params_per_batch` / `_params_per_elem`: λ and whether it is cutmix.
    private func draw(_ generator: inout SeededGenerator) -> (lambda: Double, cutmix: Bool) {
        guard generator.nextUnitDouble() < probability else { return (1, false) }
        if mixupAlpha > 0 && cutmixAlpha > 0 {
            let cutmix = generator.nextUnitDouble() < switchProbability
            let alpha = cutmix ? cutmixAlpha : mixupAlpha
            return (generator.nextBeta(alpha, alpha), cutmix)
        }
        if mixupAlpha > 0 { return (generator.nextBeta(mixupAlpha, mixupAlpha), false) }
        return (generator.nextBeta(cutmixAlpha, cutmixAlpha), true)
    }

    /// The soft targets for `labels`, sample `i` mixed with its mirror by `lambdas[i]`.
    public func targets(_ labels: [Int], lambdas: [Double]) -> Tensor {
        precondition(lambdas.count == labels.count, "Mixup: one λ per label")
        let n = labels.count, k = classCount
        let off = Float(labelSmoothing / Double(k))
        let on = Float(1 - labelSmoothing) + off
        var out = [Float](repeating: 0, count: n * k)
        for i in 0..<n {
            let first = labels[i], second = labels[n - 1 - i], l = Float(lambdas[i])
            precondition(first >= 0 && first < k, "Mixup: label \(first) outside 0..<\(k)")
            for c in 0..<k {
                out[i * k + c] = (c == first ? on : off) * l + (c == second ? on : off) * (1 - l)
            }
        }
        return Tensor(shape: [n, k], scalars: out)
    }

    /// Blends samples `i` and `j` with each other: `x_i ← λ x_i + (1 − λ) x_j` and vice versa.
    private func blendPair(_ images: inout Tensor, _ i: Int, _ j: Int, _ lambda: Double) {
        let size = images.count / images.shape[0]
        let a = Float(lambda), b = Float(1 - lambda)
        images.withUnsafeMutableBufferPointer { x in
            let p = x.baseAddress! + i * size, q = x.baseAddress! + j * size
            for e in 0..<size {
                let u = p[e], v = q[e]
                p[e] = u * a + v * b
                q[e] = v * a + u * b
            }
        }
    }

    /// `x_i ← λ x_i + (1 − λ) source_j`.
    private func blend(into images: inout Tensor, _ i: Int, with source: Tensor, _ j: Int, _ lambda: Double) {
        let size = images.count / images.shape[0]
        let a = Float(lambda), b = Float(1 - lambda)
        source.withUnsafeBufferPointer { s in
            images.withUnsafeMutableBufferPointer { x in
                let p = x.baseAddress! + i * size, q = s.baseAddress! + j * size
                for e in 0..<size { p[e] = p[e] * a + q[e] * b }
            }
        }
    }

    /// A cutmix box: rows `y0 ..< y1`, columns `x0 ..< x1`, and the λ corrected to its area.
    private struct Box { var y0, y1, x0, x1: Int; var lambda: Double }

    /// timm's `cutmix_bbox_and_lam`: side ratio √(1 − λ), centre uniform, clipped; λ = 1 − area fraction.
    private func cutBox(_ images: Tensor, lambda: Double, generator: inout SeededGenerator) -> Box {
        let h = images.shape[1], w = images.shape[2]
        let ratio = (1 - lambda).squareRoot()
        let cutH = Int(Double(h) * ratio), cutW = Int(Double(w) * ratio)
        let cy = generator.nextIndex(below: h), cx = generator.nextIndex(below: w)
        let y0 = min(max(cy - cutH / 2, 0), h), y1 = min(max(cy + cutH / 2, 0), h)
        let x0 = min(max(cx - cutW / 2, 0), w), x1 = min(max(cx + cutW / 2, 0), w)
        return Box(y0: y0, y1: y1, x0: x0, x1: x1, lambda: 1 - Double((y1 - y0) * (x1 - x0)) / Double(h * w))
    }

    /// Swaps `box` between samples `i` and `j`.
    private func swapBox(_ images: inout Tensor, _ i: Int, _ j: Int, _ box: Box) {
        let w = images.shape[2], c = images.shape[3], size = images.count / images.shape[0]
        images.withUnsafeMutableBufferPointer { x in
            let p = x.baseAddress! + i * size, q = x.baseAddress! + j * size
            for y in box.y0..<box.y1 {
                for e in (y * w + box.x0) * c..<(y * w + box.x1) * c { swap(&p[e], &q[e]) }
            }
        }
    }

    /// Copies `box` of `source` sample `j` into sample `i`.
    private func copyBox(from source: Tensor, _ j: Int, into images: inout Tensor, _ i: Int, _ box: Box) {
        let w = images.shape[2], c = images.shape[3], size = images.count / images.shape[0]
        source.withUnsafeBufferPointer { s in
            images.withUnsafeMutableBufferPointer { x in
                let p = x.baseAddress! + i * size, q = s.baseAddress! + j * size
                for y in box.y0..<box.y1 {
                    for e in (y * w + box.x0) * c..<(y * w + box.x1) * c { p[e] = q[e] }
                }
            }
        }
    }
}
