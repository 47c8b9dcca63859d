import Foundation

/// Mean softmax cross-entropy over a batch of N×K logits, with label smoothing and soft targets
/// (for mixup/cutmix), matching PyTorch's `F.cross_entropy(logits, target, label_smoothing: ε)`.
///
/// With hard labels the target distribution is `(1 − ε)·onehot + ε/K`; soft targets are used as
/// given (each row should sum to 1) and smoothed the same way when ε > 0.
public struct SoftmaxCrossEntropy: Sendable {
    /// Label smoothing ε in [0, 1).
    public var labelSmoothing: Float

    /// Creates the loss.
    public init(labelSmoothing: Float = 0) {
        precondition(labelSmoothing >= 0 && labelSmoothing < 1, "SoftmaxCrossEntropy: label smoothing must be in [0, 1)")
        self.labelSmoothing = labelSmoothing
    }

    /// The loss and its gradient with respect to the logits for integer class labels.
    ///
    /// - Precondition: one label per row, each in `0..<K`.
    public func callAsFunction(_ logits: Tensor, labels: [Int]) -> (loss: Float, gradient: Tensor) {
        precondition(logits.rank == 2 && labels.count == logits.shape[0],
                     "SoftmaxCrossEntropy: \(labels.count) labels for logits \(logits.shape)")
        let k = logits.shape[1]
        var targets = Tensor(zeros: logits.shape)
        for (row, label) in labels.enumerated() {
            precondition(label >= 0 && label < k, "SoftmaxCrossEntropy: label \(label) outside 0..<\(k)")
            targets.withUnsafeMutableBufferPointer { $0[row * k + label] = 1 }
        }
        return callAsFunction(logits, targets: targets)
    }

    /// The loss and its gradient with respect to the logits for soft target distributions (N×K).
    public func callAsFunction(_ logits: Tensor, targets: Tensor) -> (loss: Float, gradient: Tensor) {
        precondition(logits.shape == targets.shape && logits.rank == 2,
                     "SoftmaxCrossEntropy: targets \(targets.shape) for logits \(logits.shape)")
        let (n, k) = (logits.shape[0], logits.shape[1])
        let eps = labelSmoothing
        var total = 0.0
        let gradient = Tensor(shape: logits.shape) { grad in
            logits.withUnsafeBufferPointer { z in
                targets.withUnsafeBufferPointer { t in
                    for row in 0..<n {
                        let base = row * k
                        var maximum = -Float.infinity
                        for j in 0..<k { maximum = Swift.max(maximum, z[base + j]) }
                        var sumExp = 0.0
                        for j in 0..<k { sumExp += Foundation.exp(Double(z[base + j] - maximum)) }
                        let logSumExp = Double(maximum) + Foundation.log(sumExp)
                        for j in 0..<k {
                            let target = Double((1 - eps) * t[base + j] + eps / Float(k))
                            let logProbability = Double(z[base + j]) - logSumExp
                            total -= target * logProbability
                            grad[base + j] = Float((Foundation.exp(logProbability) - target) / Double(n))
                        }
                    }
                }
            }
        }
        return (Float(total / Double(n)), gradient)
    }
}

/// Classification accuracy.
public enum Accuracy {
    /// How many rows of N×K `logits` have their label among the `k` largest logits.
    /// Ties are broken towards the lower class index. A row holding a NaN counts as wrong: NaN compares
    /// false with everything, so without this rule a diverged model would rank every label first.
    /// This is the one accuracy rule of the package (training, evaluation and the programs).
    public static func correctCount(_ logits: Tensor, labels: [Int], topK k: Int = 1) -> Int {
        precondition(logits.rank == 2 && labels.count == logits.shape[0], "Accuracy: \(labels.count) labels for \(logits.shape)")
        let classes = logits.shape[1]
        var correct = 0
        logits.withUnsafeBufferPointer { z in
            for (row, label) in labels.enumerated() {
                let scores = UnsafeBufferPointer(rebasing: z[(row * classes)..<((row + 1) * classes)])
                if rank(of: label, in: scores) < k { correct += 1 }
            }
        }
        return correct
    }

    /// The 0-based rank of class `label` among `scores` (how many classes score higher, ties broken
    /// towards the lower index), or `scores.count` — last — when any score is NaN.
    public static func rank(of label: Int, in scores: UnsafeBufferPointer<Float>) -> Int {
        let value = scores[label]
        var rank = 0
        for (j, score) in scores.enumerated() {
            if score.isNaN { return scores.count }
            if score > value || (score == value && j < label) { rank += 1 }
        }
        return rank
    }

    /// The fraction of rows whose label is among the `k` largest logits.
    public static func topK(_ logits: Tensor, labels: [Int], k: Int = 1) -> Float {
        labels.isEmpty ? 0 : Float(correctCount(logits, labels: labels, topK: k)) / Float(labels.count)
    }
}
