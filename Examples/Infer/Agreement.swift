import BNN
import Foundation

/// How a second model (`--compare`) classifies the images of an evaluation: on how many its top-1
/// class is the evaluated model's, and its own top-1 and top-5 accuracy (``BNN/Accuracy``'s rule).
struct Agreement: Encodable {
    /// The second model's file, as given.
    var path: String
    /// Images both models classified.
    var images = 0
    /// Images on which the two models' top-1 classes are the same.
    var sameTop1 = 0
    /// Images whose label is the second model's top-1 class.
    var top1Correct = 0
    /// Images whose label is among the second model's five top classes.
    var top5Correct = 0
    /// Seconds in the second model alone; the evaluated model's time does not include them.
    var modelSeconds = 0.0

    /// The fraction of the images on which the two models' top-1 classes are the same.
    var agreement: Double { Double(sameTop1) / Double(max(1, images)) }
    /// The second model's top-1 accuracy.
    var top1: Double { Double(top1Correct) / Double(max(1, images)) }
    /// The second model's top-5 accuracy.
    var top5: Double { Double(top5Correct) / Double(max(1, images)) }
    /// Images per second in the second model (0 before the first batch).
    var imagesPerSecond: Double { modelSeconds > 0 ? Double(images) / modelSeconds : 0 }

    /// Counts one batch.
    ///
    /// - Parameters:
    ///   - classes: The evaluated model's top-1 class of each image (``Evaluation/topClasses(_:)``).
    ///   - logits: The second model's N×classes logits of the same images.
    ///   - labels: The images' labels.
    /// - Returns: The second model's top-1 class of each image.
    mutating func add(classes: [Int], logits: Tensor, labels: [Int]) -> [Int] {
        precondition(classes.count == labels.count && logits.shape.first == labels.count,
                     "Agreement: \(classes.count) classes and \(labels.count) labels for logits \(logits.shape)")
        let compared = Evaluation.topClasses(logits)
        sameTop1 += zip(classes, compared).filter { $0 == $1 }.count
        top1Correct += Accuracy.correctCount(logits, labels: labels, topK: 1)
        top5Correct += Accuracy.correctCount(logits, labels: labels, topK: 5)
        images += labels.count
        return compared
    }

    /// The line `birealnet-infer --compare` prints, e.g. `agreement with bf16.bnnpack: same top-1 class
    /// on 95.05% of 10000 images (9505); its top-1 85.02%, top-5 99.80%, 812.3 images/s in the network`.
    var summary: String {
        String(format: "agreement with %@: same top-1 class on %.2f%% of %d images (%d); its top-1 %.2f%%, top-5 %.2f%%, "
               + "%.1f images/s in the network", path, 100 * agreement, images, sameTop1, 100 * top1, 100 * top5,
               imagesPerSecond)
    }

    private enum CodingKeys: String, CodingKey {
        case path, images, sameTop1, agreement, top1, top5, modelImagesPerSecond
    }

    /// The JSON object of `--json`: `path`, `images`, `sameTop1`, `agreement`, the second model's
    /// `top1` and `top5` (fractions) and `modelImagesPerSecond`.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(path, forKey: .path)
        try container.encode(images, forKey: .images)
        try container.encode(sameTop1, forKey: .sameTop1)
        try container.encode(agreement, forKey: .agreement)
        try container.encode(top1, forKey: .top1)
        try container.encode(top5, forKey: .top5)
        try container.encode(imagesPerSecond, forKey: .modelImagesPerSecond)
    }
}
