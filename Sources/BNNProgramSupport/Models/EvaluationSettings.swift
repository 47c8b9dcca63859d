import BNNData
import Foundation

/// How a model's evaluation images are prepared: the centre-crop fraction and the resize filter of its
/// `EvaluationTransform`. `birealnet-train` stores the settings it validated with in every checkpoint
/// (``entries``, inside `bnn.configuration`), `birealnet-export` carries them into the packed model
/// (its `preprocessing` metadata), and `birealnet-infer` evaluates and classifies with them, `--crop-pct`
/// overriding the crop (``resolve(_:stored:)``), so that a model scores in inference what it scored in
/// training.
public struct EvaluationSettings: Sendable, Equatable {
    /// The crop fractions training (`crop_pct`) and the programs (`--crop-pct`) accept.
    public static let cropFractionRange: ClosedRange<Double> = 0.05...1
    /// The entry of ``cropFraction`` (training's `crop_pct`).
    public static let cropFractionKey = "crop_pct"
    /// The entry of ``filter``: the filter of the evaluation resize, not of training's (which may be `random`).
    public static let filterKey = "eval_interpolation"

    /// The fraction of the resized shorter side the centre crop keeps, in ``cropFractionRange``: images
    /// are resized so their shorter side is `Int(imageSize / cropFraction)`, then cropped to `imageSize`.
    public var cropFraction: Double
    /// The resize filter.
    public var filter: ResamplingFilter

    /// Creates the settings; the defaults are those of checkpoints that store none (0.875, bilinear).
    ///
    /// `cropFraction` must lie in ``cropFractionRange`` (a precondition: parse user values with
    /// ``init(entries:file:metadataKey:)`` or ``resolve(_:stored:)``).
    public init(cropFraction: Double = 0.875, filter: ResamplingFilter = .bilinear) {
        precondition(Self.cropFractionRange.contains(cropFraction), "EvaluationSettings: crop fraction \(cropFraction) out of range")
        self.cropFraction = cropFraction
        self.filter = filter
    }

    /// The settings stored in a metadata JSON object of strings (a checkpoint's `bnn.configuration`, a
    /// packed model's `preprocessing`), or nil when it holds neither entry: a file written before the
    /// settings were stored, which ``resolve(_:stored:)`` evaluates with the defaults, as it always was.
    /// When only one entry is present the other keeps its default.
    ///
    /// - Parameters:
    ///   - entries: The decoded object.
    ///   - file: The file, for messages.
    ///   - metadataKey: The metadata entry holding the object, for messages.
    /// - Throws: `CommandLineError` naming the file, the metadata key, the entry, what it must be and
    ///   what was found, when an entry is malformed.
    public init?(entries: [String: String], file: String, metadataKey: String) throws {
        guard entries[Self.cropFractionKey] != nil || entries[Self.filterKey] != nil else { return nil }
        self.init()
        if let text = entries[Self.cropFractionKey] {
            guard let value = Double(text), Self.cropFractionRange.contains(value) else {
                throw CommandLineError(file: file, metadataKey: metadataKey, entry: Self.cropFractionKey,
                                       expected: "a number in \(Self.cropFractionRange)", found: text)
            }
            cropFraction = value
        }
        if let text = entries[Self.filterKey] {
            guard let value = ResamplingFilter(rawValue: text) else {
                throw CommandLineError(file: file, metadataKey: metadataKey, entry: Self.filterKey,
                                       expected: "one of " + ResamplingFilter.allCases.map(\.rawValue).joined(separator: ", "), found: text)
            }
            filter = value
        }
    }

    /// The metadata entries of the settings, which ``init(entries:file:metadataKey:)`` reads back.
    public var entries: [String: String] {
        [Self.cropFractionKey: String(cropFraction), Self.filterKey: filter.rawValue]
    }

    /// The evaluation transform of `imageSize`×`imageSize` inputs with these settings (ImageNet normalisation).
    public func transform(imageSize: Int) -> EvaluationTransform {
        EvaluationTransform(imageSize: imageSize, cropFraction: cropFraction, filter: filter)
    }

    /// E.g. `centre crop 0.875, bilinear`.
    public var summary: String { "centre crop \(cropFraction), \(filter.rawValue)" }
}
