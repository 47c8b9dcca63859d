/// Time per operation of ``InferenceEngine`` runs, summed over the runs profiled, and the activations the
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
        /// A float convolution or dense layer (the raw products; its bias follows in a pointwise pass).
        case floatConvolution
        /// A binary convolution or dense layer with its fused epilogue (XOR-popcount, scale, shift,
        /// residual, clamp, sign packing).
        case binaryConvolution
        /// A pass of element-wise steps (bias, BatchNorm, clamp, PReLU, …) with sign packing.
        case pointwise
        /// A max-, average- or global average pool with the element-wise steps after it.
        case pooling
        /// A residual add with the element-wise steps after it.
        case add
        /// Branches joined along channels.
        case concatenate
        /// Signs packed for a binary layer on their own.
        case packing
    }

    /// One step of the network.
    public struct Step: Sendable, Equatable {
        /// The layer name, e.g. `layer2.0.binary_conv` or `conv1 max-pool`.
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
