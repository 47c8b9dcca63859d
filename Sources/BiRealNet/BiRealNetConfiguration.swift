import BNN

/// The shape and variant of a Bi-Real Net model.
///
/// ```swift
/// let model = BiRealNet(.birealnet34(classes: 1000))
/// let small = BiRealNet(.birealnet18(classes: 10, stem: .small, widths: [16, 32, 64, 128]))
/// ```
public struct BiRealNetConfiguration: Sendable, Equatable {
    /// The first layers, which decide the input resolution the model is meant for.
    public enum Stem: String, Sendable, Equatable, CaseIterable {
        /// ImageNet stem for 224-pixel input: conv 7×7 stride 2 → BatchNorm → HardTanh → max-pool 3×3 stride 2.
        case imagenet
        /// Small-image stem for 28–64 pixel input: conv 3×3 stride 1 → BatchNorm → HardTanh, no pooling.
        case small
    }

    /// Which training semantics the binary blocks follow.
    public enum Variant: String, Sendable, Equatable, CaseIterable {
        /// The MindSpore reference (62.45% top-1): variance-normalised sign in training, identity
        /// straight-through for the weights, HardTanh after every residual add, BatchNorm before the classifier.
        case reference
        /// The ECCV 2018 paper: approximate sign without normalisation, weights straight-through clipped at
        /// |W| ≤ 1, no HardTanh after the add, no BatchNorm before the classifier.
        case paper
    }

    /// Residual blocks in each of the four stages: [4, 4, 4, 4] for Bi-Real Net 18, [6, 8, 12, 6] for 34.
    public var blocksPerStage: [Int]
    /// Channels of the four stages (the stem outputs `widths[0]`).
    public var widths: [Int]
    /// Number of classes of the classifier.
    public var classes: Int
    /// The stem.
    public var stem: Stem
    /// The training variant.
    public var variant: Variant
    /// Stochastic depth (`drop_path_rate`): block `i` of `B` drops its binary branch with probability
    /// `rate · i / (B − 1)`, as timm's ResNet; 0 (the reference) for none. In `0 ..< 1`.
    public var dropPathRate: Double = 0

    /// Creates a configuration.
    ///
    /// - Precondition: four stages with at least one block each, positive widths and classes.
    public init(blocksPerStage: [Int], widths: [Int] = [64, 128, 256, 512], classes: Int = 1000,
                stem: Stem = .imagenet, variant: Variant = .reference, dropPathRate: Double = 0) {
        precondition(blocksPerStage.count == 4 && widths.count == 4, "BiRealNetConfiguration: four stages expected")
        precondition(blocksPerStage.allSatisfy { $0 > 0 } && widths.allSatisfy { $0 > 0 } && classes > 0,
                     "BiRealNetConfiguration: blocks, widths and classes must be positive")
        precondition(dropPathRate >= 0 && dropPathRate < 1, "BiRealNetConfiguration: drop path rate in 0..<1")
        self.blocksPerStage = blocksPerStage
        self.widths = widths
        self.classes = classes
        self.stem = stem
        self.variant = variant
        self.dropPathRate = dropPathRate
    }

    /// Bi-Real Net 18: [4, 4, 4, 4] blocks.
    public static func birealnet18(classes: Int = 1000, stem: Stem = .imagenet, variant: Variant = .reference,
                                   widths: [Int] = [64, 128, 256, 512]) -> Self {
        Self(blocksPerStage: [4, 4, 4, 4], widths: widths, classes: classes, stem: stem, variant: variant)
    }

    /// Bi-Real Net 34: [6, 8, 12, 6] blocks.
    public static func birealnet34(classes: Int = 1000, stem: Stem = .imagenet, variant: Variant = .reference,
                                   widths: [Int] = [64, 128, 256, 512]) -> Self {
        Self(blocksPerStage: [6, 8, 12, 6], widths: widths, classes: classes, stem: stem, variant: variant)
    }

    /// The architecture names accepted on command lines.
    public static let architectureNames = ["birealnet18", "birealnet34"]

    /// The configuration for an architecture name (`birealnet18`, `birealnet34`), or `nil`.
    public static func named(_ name: String, classes: Int, stem: Stem = .imagenet, variant: Variant = .reference,
                             widths: [Int] = [64, 128, 256, 512]) -> Self? {
        switch name.lowercased() {
        case "birealnet18": return .birealnet18(classes: classes, stem: stem, variant: variant, widths: widths)
        case "birealnet34": return .birealnet34(classes: classes, stem: stem, variant: variant, widths: widths)
        default: return nil
        }
    }
}
