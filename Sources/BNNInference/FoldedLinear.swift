/// The classifier of an exported model: `logits = features·Wᵀ + bias`, with the head BatchNorm of
/// the reference variant folded in (`W'[k, f] = W[k, f]·s[f]`, `bias'[k] = bias[k] + Σ_f W[k, f]·t[f]`
/// for the BatchNorm's `y = x·s + t`).
public struct FoldedLinear: Sendable, Equatable {
    /// Input features F.
    public let inputFeatures: Int
    /// Output features (classes) K.
    public let outputFeatures: Int
    /// K×F weights, row-major.
    public let weight: [Float]
    /// K biases.
    public let bias: [Float]

    /// Creates the classifier.
    ///
    /// - Precondition: `weight` has K·F values and `bias` K (programmer error; the file reader checks).
    public init(inputFeatures: Int, outputFeatures: Int, weight: [Float], bias: [Float]) {
        precondition(inputFeatures > 0 && outputFeatures > 0 && weight.count == inputFeatures * outputFeatures
                     && bias.count == outputFeatures, "FoldedLinear: sizes do not fit")
        self.inputFeatures = inputFeatures
        self.outputFeatures = outputFeatures
        self.weight = weight
        self.bias = bias
    }
}
