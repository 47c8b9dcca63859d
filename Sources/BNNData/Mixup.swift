import BNN

/// timm's `Mixup` in `batch` mode: one λ per batch mixes every image with its mirror in the batch
/// (sample `i` with `n − 1 − i`), by blending (mixup) or by pasting a box (cutmix), and the targets
/// become the same blend of label-smoothed one-hot vectors.
///
/// Per batch: with probability `probability` a λ is drawn — when both alphas are positive, cutmix is
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

    /// Creates the batch augmentation.
    ///
    /// - Throws: ``BNNDataError/invalidConfiguration(_:)`` when both alphas are 0, a probability is outside
    ///   0...1 or `classCount < 1`.
    public init(mixupAlpha: Double, cutmixAlpha: Double, probability: Double = 1, switchProbability: Double = 0.5,
                labelSmoothing: Double = 0.1, classCount: Int) throws {
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
    }

    /// Mixes an N×H×W×C batch in place and returns the N×K soft targets and the λ used.
    public func apply(to images: inout Tensor, labels: [Int], generator: inout SeededGenerator)
        -> (targets: Tensor, lambda: Double) {
        precondition(images.rank == 4 && images.shape[0] == labels.count, "Mixup: images N×H×W×C with N labels")
        var lambda = 1.0
        var cutmix = false
        if generator.nextUnitDouble() < probability {
            if mixupAlpha > 0 && cutmixAlpha > 0 {
                cutmix = generator.nextUnitDouble() < switchProbability
                lambda = cutmix ? generator.nextBeta(cutmixAlpha, cutmixAlpha) : generator.nextBeta(mixupAlpha, mixupAlpha)
            } else if mixupAlpha > 0 {
                lambda = generator.nextBeta(mixupAlpha, mixupAlpha)
            } else {
                cutmix = true
                lambda = generator.nextBeta(cutmixAlpha, cutmixAlpha)
            }
        }
        if lambda != 1 {
            if cutmix { lambda = pasteBoxes(&images, lambda: lambda, generator: &generator) } else { blend(&images, lambda) }
        }
        return (targets(labels, lambda: lambda), lambda)
    }

    /// The soft targets for `labels` mixed with their mirror by `lambda`.
    public func targets(_ labels: [Int], lambda: Double) -> Tensor {
        let n = labels.count, k = classCount
        let off = Float(labelSmoothing / Double(k))
        let on = Float(1 - labelSmoothing) + off
        let l = Float(lambda)
        var out = [Float](repeating: 0, count: n * k)
        for i in 0..<n {
            let first = labels[i], second = labels[n - 1 - i]
            precondition(first >= 0 && first < k, "Mixup: label \(first) outside 0..<\(k)")
            for c in 0..<k {
                out[i * k + c] = (c == first ? on : off) * l + (c == second ? on : off) * (1 - l)
            }
        }
        return Tensor(shape: [n, k], scalars: out)
    }

    private func blend(_ images: inout Tensor, _ lambda: Double) {
        let n = images.shape[0], size = images.count / max(n, 1)
        let a = Float(lambda), b = Float(1 - lambda)
        images.withUnsafeMutableBufferPointer { x in
            for i in 0..<(n / 2) {
                let p = x.baseAddress! + i * size, q = x.baseAddress! + (n - 1 - i) * size
                for e in 0..<size {
                    let u = p[e], v = q[e]
                    p[e] = u * a + v * b
                    q[e] = v * a + u * b
                }
            }
        }
    }

    /// Swaps one box between mirrored samples; returns the corrected λ.
    private func pasteBoxes(_ images: inout Tensor, lambda: Double, generator: inout SeededGenerator) -> Double {
        let n = images.shape[0], h = images.shape[1], w = images.shape[2], c = images.shape[3]
        let ratio = (1 - lambda).squareRoot()
        let cutH = Int(Double(h) * ratio), cutW = Int(Double(w) * ratio)
        let cy = generator.nextIndex(below: h), cx = generator.nextIndex(below: w)
        let y0 = min(max(cy - cutH / 2, 0), h), y1 = min(max(cy + cutH / 2, 0), h)
        let x0 = min(max(cx - cutW / 2, 0), w), x1 = min(max(cx + cutW / 2, 0), w)
        images.withUnsafeMutableBufferPointer { x in
            for i in 0..<(n / 2) {
                let p = x.baseAddress! + i * h * w * c, q = x.baseAddress! + (n - 1 - i) * h * w * c
                for y in y0..<y1 {
                    for e in (y * w + x0) * c..<(y * w + x1) * c { swap(&p[e], &q[e]) }
                }
            }
        }
        return 1 - Double((y1 - y0) * (x1 - x0)) / Double(h * w)
    }
}
