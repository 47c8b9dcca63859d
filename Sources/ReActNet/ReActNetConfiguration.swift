import BNN

/// The architecture, size and stem of a model of the `ReActNet` target.
///
/// ```swift
/// let student = ReActNet.model(.reactResNet18(classes: 10, stem: .small, widths: [16, 32, 64, 128]))
/// let teacher = ReActNet.model(.resnet18(classes: 10, stem: .small, widths: [16, 32, 64, 128]))
/// let mobile = ReActNet.model(.reactNetA(classes: 1000))
/// ```
public struct ReActNetConfiguration: Sendable, Equatable {
    /// The model families.
    public enum Architecture: String, Sendable, Equatable, CaseIterable {
        /// ReActNet-A (Liu et al., ECCV 2020): MobileNet-v1-shaped, binary 3×3 and 1×1 convolutions with
        /// RSign and RPReLU, reduction blocks that concatenate two 1×1 branches.
        case reactNetA = "reactnet-a"
        /// ReAct-ResNet-18: the Bi-Real Net 18 body with RSign and RPReLU.
        case reactResNet18 = "react-resnet18"
        /// Float ResNet-18 with torchvision's names (a teacher).
        case resnet18
        /// Float ResNet-34 with torchvision's names (a teacher).
        case resnet34
    }

    /// The first layers, which decide the input resolution the model is meant for.
    public enum Stem: String, Sendable, Equatable, CaseIterable {
        /// 224-pixel input: ResNets use conv 7×7 stride 2 and max-pool 3×3 stride 2, ReActNet-A conv 3×3 stride 2.
        case imagenet
        /// 28–64 pixel input: conv 3×3 stride 1 and no pooling.
        case small
    }

    /// The model family.
    public var architecture: Architecture
    /// Classes of the classifier.
    public var classes: Int
    /// The stem.
    public var stem: Stem
    /// Channels: for the ResNets those of the four stages; for ReActNet-A the stem's output then every
    /// block's (the authors' `stage_out_channel`, 14 entries for the full model).
    public var widths: [Int]

    /// ReActNet-A's `stage_out_channel`: 32, 64, 128×2, 256×2, 512×6, 1024×2.
    public static let reactNetAWidths = [32, 64, 128, 128, 256, 256] + [Int](repeating: 512, count: 6) + [1024, 1024]
    /// The ResNets' stage widths.
    public static let resNetWidths = [64, 128, 256, 512]

    /// Creates a configuration.
    ///
    /// - Precondition: positive classes and widths; four widths for the ResNets; for ReActNet-A at
    ///   least two widths, each either equal to the previous one or twice it.
    public init(architecture: Architecture, classes: Int = 1000, stem: Stem = .imagenet, widths: [Int]? = nil) {
        let widths = widths ?? (architecture == .reactNetA ? Self.reactNetAWidths : Self.resNetWidths)
        precondition(classes > 0 && widths.allSatisfy { $0 > 0 }, "ReActNetConfiguration: classes and widths must be positive")
        if architecture == .reactNetA {
            precondition(widths.count >= 2 && zip(widths, widths.dropFirst()).allSatisfy { $1 == $0 || $1 == 2 * $0 },
                         "ReActNetConfiguration: ReActNet-A widths must keep or double the previous width, got \(widths)")
        } else {
            precondition(widths.count == 4, "ReActNetConfiguration: four stage widths expected, got \(widths)")
        }
        self.architecture = architecture
        self.classes = classes
        self.stem = stem
        self.widths = widths
    }

    /// ReActNet-A.
    public static func reactNetA(classes: Int = 1000, stem: Stem = .imagenet, widths: [Int] = reactNetAWidths) -> Self {
        Self(architecture: .reactNetA, classes: classes, stem: stem, widths: widths)
    }

    /// ReAct-ResNet-18.
    public static func reactResNet18(classes: Int = 1000, stem: Stem = .imagenet, widths: [Int] = resNetWidths) -> Self {
        Self(architecture: .reactResNet18, classes: classes, stem: stem, widths: widths)
    }

    /// Float ResNet-18.
    public static func resnet18(classes: Int = 1000, stem: Stem = .imagenet, widths: [Int] = resNetWidths) -> Self {
        Self(architecture: .resnet18, classes: classes, stem: stem, widths: widths)
    }

    /// Float ResNet-34.
    public static func resnet34(classes: Int = 1000, stem: Stem = .imagenet, widths: [Int] = resNetWidths) -> Self {
        Self(architecture: .resnet34, classes: classes, stem: stem, widths: widths)
    }

    /// The architecture names accepted on command lines.
    public static var architectureNames: [String] { Architecture.allCases.map(\.rawValue) }

    /// The configuration for an architecture name (`reactnet-a`, `react-resnet18`, `resnet18`,
    /// `resnet34`), or `nil`. `widths` `nil` takes the architecture's full widths.
    public static func named(_ name: String, classes: Int, stem: Stem = .imagenet, widths: [Int]? = nil) -> Self? {
        guard let architecture = Architecture(rawValue: name.lowercased()) else { return nil }
        return Self(architecture: architecture, classes: classes, stem: stem, widths: widths)
    }
}
