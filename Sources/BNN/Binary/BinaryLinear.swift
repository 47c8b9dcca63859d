/// A binary fully connected layer (Larq's `QuantDense` with `ste_sign` quantizers):
/// `(sign(x)·sign(W)ᵀ)·α` on N×F input, with `α[o] = mean|W[o]|` and no bias.
///
/// The dense counterpart of ``BinaryConv2D``, with the same conventions: an optional
/// ``inputQuantizer`` binarises the input (without one the input is used as it is), real-valued
/// latent weights O×F (PyTorch's layout, kind ``ParameterKind/latentBinary``) are trained through
/// ``weightQuantizer``'s estimator, and α is a constant in the backward pass. Products of ±1 values sum
/// to exact integers, so the float product of the signs is exact.
public final class BinaryLinear: TensorLayer {
    /// The latent real-valued weights, O×F.
    public let weight: Parameter
    /// Binarises the input; `nil` to multiply the input as it is.
    public let inputQuantizer: SignActivation?
    /// The gradient estimator of the weights' sign.
    public let weightQuantizer: any SignQuantizer
    /// Whether the output is scaled per feature by `mean|W|`.
    public let scalesOutput: Bool
    /// Input features F.
    public let inputFeatures: Int
    /// Output features O.
    public let outputFeatures: Int

    private var recorded: (binaryInput: Tensor, signWeights: Tensor, scale: [Float])?

    /// Creates the layer; the latent weights are initialised Kaiming-normal (fan-in).
    public init(inputFeatures: Int, outputFeatures: Int, inputQuantizer: SignActivation? = SignActivation(),
                weightQuantizer: any SignQuantizer = SteSign(clipValue: 1), scalesOutput: Bool = true) {
        precondition(inputFeatures > 0 && outputFeatures > 0, "BinaryLinear: invalid configuration")
        self.inputFeatures = inputFeatures
        self.outputFeatures = outputFeatures
        self.inputQuantizer = inputQuantizer
        self.weightQuantizer = weightQuantizer
        self.scalesOutput = scalesOutput
        weight = Parameter(Initializer.kaimingNormal(shape: [outputFeatures, inputFeatures], fanIn: inputFeatures),
                           kind: .latentBinary)
    }

    /// `weight`.
    public var ownParameters: [(name: String, parameter: Parameter)] { [("weight", weight)] }

    /// E.g. `BinaryLinear(512→10, approx_sign)`.
    public var summaryDescription: String {
        "BinaryLinear(\(inputFeatures)→\(outputFeatures)" + (inputQuantizer.map { ", \($0.quantizer.name)" } ?? "") + ")"
    }

    /// N×O.
    public func outputShape(forInputShape shape: [Int]) -> [Int] { [shape[0], outputFeatures] }

    /// N·F·O binary MACs when the input is binarised, else real ones.
    public func multiplyAccumulates(forInputShape shape: [Int]) -> (binary: Int, real: Int) {
        let macs = shape[0] * inputFeatures * outputFeatures
        return inputQuantizer == nil ? (0, macs) : (macs, 0)
    }

    /// `α[o] = mean|W[o]|` (or 1 without scaling), from the current latent weights.
    public func outputScale() -> [Float] {
        scalesOutput ? MagnitudeAwareSign().scales(weight.value) : [Float](repeating: 1, count: outputFeatures)
    }

    /// `(sign(x)·sign(W)ᵀ)·α` for N×F input.
    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        precondition(input.rank == 2 && input.shape[1] == inputFeatures,
                     "BinaryLinear: expected N×\(inputFeatures) input, got \(input.shape)")
        let binaryInput = inputQuantizer?.forward(input, mode: mode) ?? input
        let signWeights = weightQuantizer.forward(weight.value)
        let scale = outputScale()
        recorded = mode.recordsForBackward ? (binaryInput, signWeights, scale) : nil
        return Linear.product(input: binaryInput, weight: signWeights)
            .channelAffine(scale: scale, shift: [Float](repeating: 0, count: outputFeatures))
    }

    /// Accumulates the estimator's weight gradient (of the α-scaled product) and returns the input gradient.
    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard let (binaryInput, signWeights, scale) = recorded else {
            preconditionFailure("BinaryLinear.backward without a recording forward pass")
        }
        recorded = nil
        let scaledGradient = outputGradient.channelAffine(scale: scale, shift: [Float](repeating: 0, count: outputFeatures))
        var signGradient = Tensor(zeros: signWeights.shape)
        Linear.accumulateWeightGradient(input: binaryInput, outputGradient: scaledGradient, into: &signGradient)
        weight.accumulateGradient(weightQuantizer.backward(input: weight.value, outputGradient: signGradient))
        let binaryInputGradient = Linear.inputGradient(outputGradient: scaledGradient, weight: signWeights)
        return inputQuantizer?.backward(binaryInputGradient) ?? binaryInputGradient
    }
}
