import BiRealNet
import BNN
import Foundation
import ReActNet

/// A network the programs build by name: `--arch` with the classes, stage widths, blocks, stem and
/// variant around it. `birealnet-train` stores it in every checkpoint's `bnn.configuration`
/// metadata (``metadata(imageSize:evaluation:)``), and `birealnet-export` and `birealnet-infer` read it
/// back (``stored(in:file:)``), so that a checkpoint needs no architecture flags; flags override.
public struct ModelArchitecture: Sendable, Equatable {
    /// Every `--arch` value: Bi-Real Net 18 and 34, ReActNet-A, ReAct-ResNet-18 and the float ResNets.
    public static let names = BiRealNetConfiguration.architectureNames + ReActNetConfiguration.architectureNames
    /// The checkpoint metadata key of the architecture (a JSON object of strings).
    public static let metadataKey = "bnn.configuration"
    /// The checkpoint metadata key of the class names (a JSON array of strings).
    public static let classNamesMetadataKey = "bnn.class_names"

    /// The architecture name, one of ``names``.
    public var name: String
    /// Classifier outputs.
    public var classes: Int
    /// The four stage widths (ReActNet-A derives its fourteen widths from them).
    public var widths: [Int]
    /// Bi-Real Net blocks per stage, nil for the architecture's own.
    public var blocks: [Int]?
    /// The stem: ImageNet (7×7/2 and a max-pool) or small (3×3/1, for 28–64 pixel images).
    public var stem: BiRealNetConfiguration.Stem
    /// The Bi-Real Net variant.
    public var variant: BiRealNetConfiguration.Variant
    /// The ReActNet training stage: 1 keeps float weights, 2 binarises them.
    public var stage: Int
    /// The largest drop-path rate of the residual blocks, linear in depth (every family).
    public var dropPathRate: Double

    /// Creates an architecture description.
    public init(name: String, classes: Int, widths: [Int] = [64, 128, 256, 512], blocks: [Int]? = nil,
                stem: BiRealNetConfiguration.Stem = .imagenet, variant: BiRealNetConfiguration.Variant = .reference,
                stage: Int = 2, dropPathRate: Double = 0) {
        self.name = name
        self.classes = classes
        self.widths = widths
        self.blocks = blocks
        self.stem = stem
        self.variant = variant
        self.stage = stage
        self.dropPathRate = dropPathRate
    }

    /// The Bi-Real Net configuration of the architecture (for ReActNet-target models the template of
    /// their classes, stem and widths).
    ///
    /// - Throws: `CommandLineError` for an unknown name or sizes out of range.
    public func biRealConfiguration() throws -> BiRealNetConfiguration {
        guard Self.names.contains(name) else {
            throw CommandLineError("unknown architecture '\(name)' (one of \(Self.names.joined(separator: ", ")))")
        }
        guard classes >= 1, widths.count == 4, widths.allSatisfy({ (1...1_000_000).contains($0) }) else {
            throw CommandLineError("\(name) needs at least one class and four widths in 1...1000000, got \(classes) classes, widths \(widths)")
        }
        let biRealName = BiRealNetConfiguration.architectureNames.contains(name) ? name : "birealnet18"
        guard var configuration = BiRealNetConfiguration.named(biRealName, classes: classes, stem: stem, variant: variant,
                                                               widths: widths) else {
            throw CommandLineError("unknown architecture '\(name)'")
        }
        if let blocks {
            guard blocks.count == 4, blocks.allSatisfy({ (1...1_000_000).contains($0) }) else {
                throw CommandLineError("blocks must be four integers in 1...1000000, got \(blocks)")
            }
            configuration.blocksPerStage = blocks
        }
        guard (0..<1).contains(dropPathRate) else { throw CommandLineError("the drop-path rate must be in [0, 1), got \(dropPathRate)") }
        configuration.dropPathRate = dropPathRate
        return configuration
    }

    /// The ReActNet-target configuration, or nil for a Bi-Real Net. ReActNet-A's stem and first
    /// block take a quarter and half of the first stage width, its stages the four widths.
    ///
    /// - Throws: `CommandLineError` for widths ReActNet-A cannot use.
    public func reactNetConfiguration() throws -> ReActNetConfiguration? {
        let reactStem: ReActNetConfiguration.Stem = stem == .small ? .small : .imagenet
        guard let base = ReActNetConfiguration.named(name, classes: classes, stem: reactStem) else { return nil }
        guard base.architecture == .reactNetA else {
            return ReActNetConfiguration(architecture: base.architecture, classes: classes, stem: reactStem, widths: widths)
        }
        let w = widths
        guard w.count == 4, w[1] == 2 * w[0], w[2] == 2 * w[1], w[3] == 2 * w[2], w[0] % 4 == 0, w[0] > 0 else {
            throw CommandLineError("reactnet-a needs widths that double from stage to stage, the first a multiple of 4, got \(w)")
        }
        let expanded = [w[0] / 4, w[0] / 2, w[0], w[0], w[1], w[1]] + [Int](repeating: w[2], count: 6) + [w[3], w[3]]
        return ReActNetConfiguration(architecture: .reactNetA, classes: classes, stem: reactStem, widths: expanded)
    }

    /// The model with weights seeded by `seed`, and a description of its blocks for the run metadata.
    ///
    /// - Throws: `CommandLineError` for an unknown name, sizes out of range, or stage 1 of a Bi-Real Net.
    public func makeModel(seed: UInt64) throws -> (model: any TensorLayer, blocks: String) {
        let configuration = try biRealConfiguration()
        if let react = try reactNetConfiguration() {
            let model = Initializer.withSeed(seed) { () -> Sequential in
                let model = ReActNet.model(react, binarizesWeights: stage != 1)
                DropPath.assign(maximumRate: dropPathRate, to: DropPath.residuals(in: model))
                return model
            }
            return (model, "\(react.architecture.rawValue), widths \(react.widths)")
        }
        guard stage == 2 else { throw CommandLineError("--stage 1 needs a ReActNet architecture (\(ReActNetConfiguration.architectureNames))") }
        return (Initializer.withSeed(seed) { BiRealNet(configuration) }, "\(configuration.blocksPerStage)")
    }

    /// E.g. `birealnet34 (reference, imagenet stem, widths [64, 128, 256, 512], 1000 classes)`.
    public var summary: String {
        "\(name) (\(BiRealNetConfiguration.architectureNames.contains(name) ? "\(variant.rawValue), " : "")\(stem.rawValue) stem, "
            + "widths \(widths)\(blocks.map { ", blocks \($0)" } ?? ""), \(classes) classes)"
    }

    /// The `bnn.configuration` entries: `arch`, `classes`, `widths`, `blocks`, `stem`, `variant`,
    /// `stage`, `image_size`, and the ``EvaluationSettings/entries`` of `evaluation` (`crop_pct`,
    /// `eval_interpolation`), the settings of the validation transform.
    public func metadata(imageSize: Int, evaluation: EvaluationSettings) -> [String: String] {
        var result = ["arch": name, "classes": String(classes), "widths": "\(widths)", "stem": stem.rawValue,
                      "variant": variant.rawValue, "stage": String(stage), "image_size": String(imageSize)]
        if let blocks { result["blocks"] = "\(blocks)" }
        return result.merging(evaluation.entries) { architecture, _ in architecture }
    }

    /// The configuration stored in a checkpoint's metadata: the architecture, the image size it was
    /// trained at and its evaluation settings (nil when the checkpoint predates them); nil
    /// when the checkpoint has no `bnn.configuration` (e.g. one converted from PyTorch).
    ///
    /// - Throws: `CommandLineError` naming the file and the entry when an entry is malformed.
    public static func stored(in metadata: [String: String], file: String) throws -> CheckpointConfiguration? {
        guard let text = metadata[metadataKey] else { return nil }
        guard let entries = try? JSONDecoder().decode([String: String].self, from: Data(text.utf8)) else {
            throw CommandLineError("\(file): metadata '\(metadataKey)' is not a JSON object of strings")
        }
        func invalid(_ key: String, _ expected: String) -> CommandLineError {
            CommandLineError(file: file, metadataKey: metadataKey, entry: key, expected: expected, found: entries[key] ?? "")
        }
        func integers(_ key: String) throws -> [Int]? {
            guard let value = entries[key] else { return nil }
            let parts = value.trimmingCharacters(in: CharacterSet(charactersIn: "[] ")).split(separator: ",")
            let numbers = parts.compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard numbers.count == 4, parts.count == 4, numbers.allSatisfy({ (1...1_000_000).contains($0) }) else {
                throw invalid(key, "four integers like [64, 128, 256, 512]")
            }
            return numbers
        }
        guard let name = entries["arch"], names.contains(name) else { throw invalid("arch", "one of \(names.joined(separator: ", "))") }
        guard let classes = entries["classes"].flatMap(Int.init), (1...1_000_000).contains(classes) else {
            throw invalid("classes", "an integer in 1...1000000")
        }
        let stem = try entries["stem"].map { text in
            guard let stem = BiRealNetConfiguration.Stem(rawValue: text) else { throw invalid("stem", "imagenet or small") }
            return stem
        } ?? .imagenet
        let variant = try entries["variant"].map { text in
            guard let variant = BiRealNetConfiguration.Variant(rawValue: text) else { throw invalid("variant", "reference or paper") }
            return variant
        } ?? .reference
        let stage = try entries["stage"].map { text in
            guard let stage = Int(text), (1...2).contains(stage) else { throw invalid("stage", "1 or 2") }
            return stage
        } ?? 2
        let imageSize = try entries["image_size"].map { text in
            guard let size = Int(text), (1...4096).contains(size) else { throw invalid("image_size", "an integer in 1...4096") }
            return size
        }
        // A ReActNet-target model's `blocks` entry describes it in words; only Bi-Real Net's is a count.
        let blocks = BiRealNetConfiguration.architectureNames.contains(name) ? try integers("blocks") : nil
        let architecture = ModelArchitecture(name: name, classes: classes, widths: try integers("widths") ?? [64, 128, 256, 512],
                                             blocks: blocks, stem: stem, variant: variant, stage: stage)
        return CheckpointConfiguration(architecture: architecture, imageSize: imageSize,
                                       evaluation: try EvaluationSettings(entries: entries, file: file, metadataKey: metadataKey))
    }

    /// The class names stored in a checkpoint's `bnn.class_names` metadata, nil when there are none.
    ///
    /// - Throws: `CommandLineError` naming the file when the entry is not a JSON array of strings.
    public static func storedClassNames(in metadata: [String: String], file: String) throws -> [String]? {
        guard let text = metadata[classNamesMetadataKey] else { return nil }
        guard let names = try? JSONDecoder().decode([String].self, from: Data(text.utf8)) else {
            throw CommandLineError("\(file): metadata '\(classNamesMetadataKey)' is not a JSON array of strings")
        }
        return names
    }
}
