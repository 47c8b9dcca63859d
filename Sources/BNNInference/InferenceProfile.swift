/// Time per step of ``InferenceEngine`` runs, summed over the runs profiled, and the activations the
/// 1-bit path could not represent.
///
/// ```swift
/// var profile = InferenceProfile()
/// for _ in 0..<10 { _ = try engine.logits(for: images, profile: &profile) }
/// for step in profile.steps { print(step.name, step.seconds / Double(profile.runs)) }
/// ```
public struct InferenceProfile: Sendable, Equatable {
    /// What a step computes.
    public enum Kind: String, Sendable, Codable {
        /// The float stem convolution.
        case stemConvolution
        /// Bias, clamp, max-pool and sign packing after the stem convolution.
        case stemPooling
        /// A shortcut's average pool and 1×1 float convolution.
        case downsample
        /// A fused binary convolution (XOR-popcount, scale, bias, residual, clamp, packing).
        case binaryConvolution
        /// Global average pool and classifier.
        case head
    }

    /// One step of the network.
    public struct Step: Sendable, Equatable {
        /// The layer name, e.g. `layer2.0.binary_conv` or `stem.conv`.
        public let name: String
        /// What the step computes.
        public let kind: Kind
        /// Multiply-accumulates per run (bit-MACs for binary convolutions), for the whole batch.
        public let macs: Int
        /// Seconds spent in this step, summed over ``InferenceProfile/runs``.
        public internal(set) var seconds: Double
    }

    /// The steps in execution order.
    public internal(set) var steps: [Step] = []
    /// How many runs were profiled.
    public internal(set) var runs = 0
    /// Activations entering a binary convolution that were exactly 0 (or NaN), summed over the runs:
    /// the float model's sign(0) = 0 has no 1-bit code and the packed path used +1 for them.
    public internal(set) var zeroActivations = 0

    /// Creates an empty profile.
    public init() {}

    /// Total seconds over all steps and runs.
    public var totalSeconds: Double { steps.reduce(0) { $0 + $1.seconds } }

    /// Adds `seconds` to step `index` (appending it during the first run).
    mutating func record(_ index: Int, name: String, kind: Kind, macs: Int, seconds: Double) {
        if index < steps.count {
            steps[index].seconds += seconds
        } else {
            steps.append(Step(name: name, kind: kind, macs: macs, seconds: seconds))
        }
    }
}
