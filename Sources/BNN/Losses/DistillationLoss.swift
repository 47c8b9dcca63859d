import Foundation

/// Knowledge distillation from a frozen real-valued teacher: ReActNet's distributional loss, alone or
/// mixed with the label loss.
///
/// With `p = softmax(teacher(x))` and `q = softmax(student logits)` the distributional term is the KL
/// divergence `KL(p ‖ q) = Σ p·(log p − log q)`, averaged over the batch. Its gradient with respect to the
/// student's logits, `(q − p)/N`, equals that of ReActNet's `DistributionLoss` (the cross-entropy
/// `−Σ p·log q`, which differs from the KL divergence by the teacher's entropy, a constant). The loss is
///
/// ```
/// L = (1 − labelWeight)·KL(p ‖ q) + labelWeight·CE(labels, q)
/// ```
///
/// so `labelWeight` 0 is ReActNet's recipe and 1 plain supervised training. The teacher runs in
/// ``ForwardMode/evaluation``: running statistics, nothing recorded, no gradient.
public struct DistillationLoss {
    /// The frozen teacher, N×H×W×C images to N×K logits.
    public let teacher: any TensorLayer
    /// The weight of the label loss, in [0, 1].
    public var labelWeight: Float
    /// The label loss (with its label smoothing), used when `labelWeight` > 0.
    public var labelLoss: SoftmaxCrossEntropy

    /// Creates the loss.
    ///
    /// - Precondition: `labelWeight` lies in [0, 1].
    public init(teacher: any TensorLayer, labelWeight: Float = 0, labelLoss: SoftmaxCrossEntropy = SoftmaxCrossEntropy()) {
        precondition((0...1).contains(labelWeight), "DistillationLoss: label weight must lie in [0, 1], got \(labelWeight)")
        self.teacher = teacher
        self.labelWeight = labelWeight
        self.labelLoss = labelLoss
    }

    /// The teacher's class probabilities for `images` (N×K).
    public func teacherProbabilities(_ images: Tensor) -> Tensor {
        Self.softmax(teacher.forward(images, mode: .evaluation))
    }

    /// The loss and its gradient with respect to the student's logits for `batch`.
    public func callAsFunction(_ logits: Tensor, batch: LabeledBatch) -> (loss: Float, gradient: Tensor) {
        let distribution = divergence(logits, teacherProbabilities: teacherProbabilities(batch.images))
        guard labelWeight > 0 else { return distribution }
        let labels = batch.softTargets.map { labelLoss(logits, targets: $0) } ?? labelLoss(logits, labels: batch.labels)
        var gradient = distribution.gradient
        gradient.scale(by: 1 - labelWeight)
        gradient.add(labels.gradient, scaledBy: labelWeight)
        return ((1 - labelWeight) * distribution.loss + labelWeight * labels.loss, gradient)
    }

    /// `KL(p ‖ softmax(logits))` averaged over the N rows, and its gradient `(q − p)/N`.
    public func divergence(_ logits: Tensor, teacherProbabilities p: Tensor) -> (loss: Float, gradient: Tensor) {
        precondition(logits.shape == p.shape && logits.rank == 2,
                     "DistillationLoss: teacher output \(p.shape) for student logits \(logits.shape)")
        let (crossEntropy, gradient) = SoftmaxCrossEntropy()(logits, targets: p)
        var entropy = 0.0
        for value in p.scalars where value > 0 { entropy -= Double(value) * Foundation.log(Double(value)) }
        return (crossEntropy - Float(entropy / Double(p.shape[0])), gradient)
    }

    /// Row-wise softmax of N×K logits (max-subtracted, `Double` sums).
    public static func softmax(_ logits: Tensor) -> Tensor {
        let k = logits.shape[1]
        return Tensor(shape: logits.shape) { out in
            logits.withUnsafeBufferPointer { z in
                for row in 0..<logits.shape[0] {
                    let base = row * k
                    var maximum = -Float.infinity
                    for j in 0..<k { maximum = Swift.max(maximum, z[base + j]) }
                    var sum = 0.0
                    for j in 0..<k { sum += Foundation.exp(Double(z[base + j] - maximum)) }
                    for j in 0..<k { out[base + j] = Float(Foundation.exp(Double(z[base + j] - maximum)) / sum) }
                }
            }
        }
    }
}
