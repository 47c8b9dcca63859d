/// What a checkpoint's `bnn.configuration` metadata says about its model, as
/// ``ModelArchitecture/stored(in:file:)`` reads it back: the architecture, the image size it was
/// trained at and the evaluation settings it was validated with.
public struct CheckpointConfiguration: Sendable, Equatable {
    /// The architecture.
    public var architecture: ModelArchitecture
    /// The square image size in pixels the model was trained at; nil when not stored.
    public var imageSize: Int?
    /// The settings of the validation transform; nil for checkpoints written before training stored
    /// them, which are evaluated with the defaults (``EvaluationSettings/resolve(_:stored:)``).
    public var evaluation: EvaluationSettings?

    /// Creates a configuration.
    public init(architecture: ModelArchitecture, imageSize: Int?, evaluation: EvaluationSettings? = nil) {
        self.architecture = architecture
        self.imageSize = imageSize
        self.evaluation = evaluation
    }
}
