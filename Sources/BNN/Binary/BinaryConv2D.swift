import BNNKernels

/// A binarised 2-D convolution (Bi-Real's `HardBinaryConv`, Larq's `QuantConv2D`):
/// `conv(sign(x), sign(W)) · α`, with `α[o] = mean|W[o]|` over (kH, kW, C) and no bias.
///
/// - Activations: the optional ``inputQuantizer`` (a ``SignActivation``) binarises the input first;
///   without one the input is used as it is (binary weights only).
/// - Weights: real-valued latent weights `W` are trained; the forward pass uses `sign(W)` (sign(0) = 0)
///   and the backward pass hands the gradient of `sign(W)` to `W` through ``weightQuantizer``
///   (identity straight-through for the reference model, clipped at |W| ≤ 1 for the paper variant).
/// - Scaling: `α` is computed from the latent weights at every forward pass and treated as a constant
///   in the backward pass (no gradient flows through it), as in the reference. The weights' gradient
///   is that of the α-scaled output unless ``weightGradientIncludesScale`` is false (ReActNet's code).
/// - Groups: with ``groups`` > 1 the channels split as in ``Conv2D`` (grouped, depthwise); such layers
///   convolve the signs with ``GroupedConvolution`` (exact for ±1 values).
///
/// Weights are stored O×kH×kW×C (saved as O×C×kH×kW) with kind ``ParameterKind/latentBinary``.
public final class BinaryConv2D: TensorLayer, PrecisionSelectable {
    /// The latent real-valued weights, O×kH×kW×C.
    public let weight: Parameter
    /// Binarises the input; `nil` to convolve the input as it is.
    public let inputQuantizer: SignActivation?
    /// The gradient estimator of the weights' sign.
    public let weightQuantizer: any SignQuantizer
    /// Whether the output is scaled per channel by `mean|W|`.
    public let scalesOutput: Bool
    /// Input channels C.
    public let inputChannels: Int
    /// Output channels O.
    public let outputChannels: Int
    /// Square kernel size.
    public let kernelSize: Int
    /// Stride.
    public let stride: Int
    /// Zero padding on every side (padded positions contribute 0).
    public let padding: Int
    /// Channel groups (1 for a full convolution, C for depthwise).
    public let groups: Int
    /// Whether the latent weights receive the gradient of the α-scaled output (true, the Bi-Real
    /// reference) or of the unscaled convolution of the signs (false: ReActNet's `HardBinaryConv`,
    /// whose α multiplies a detached copy of the weights).
    public var weightGradientIncludesScale = true

    /// The operand precision of this layer's products in each pass (default fp32).
    public var precision = PrecisionPolicy.fp32

    private var recorded: (binaryInput: SavedBinaryInput, signWeights: Tensor, scale: [Float])?

    /// Creates a binary convolution; the latent weights are initialised Kaiming-normal (fan-in).
    public init(inputChannels: Int, outputChannels: Int, kernelSize: Int = 3, stride: Int = 1, padding: Int = 1,
                inputQuantizer: SignActivation? = SignActivation(),
                weightQuantizer: any SignQuantizer = SteSign(clipValue: nil), scalesOutput: Bool = true, groups: Int = 1) {
        precondition(inputChannels > 0 && outputChannels > 0 && kernelSize > 0 && stride > 0 && padding >= 0,
                     "BinaryConv2D: invalid configuration")
        precondition(groups > 0 && inputChannels % groups == 0 && outputChannels % groups == 0,
                     "BinaryConv2D: \(groups) groups do not divide \(inputChannels)→\(outputChannels) channels")
        self.groups = groups
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        self.inputQuantizer = inputQuantizer
        self.weightQuantizer = weightQuantizer
        self.scalesOutput = scalesOutput
        let fanIn = inputChannels / groups * kernelSize * kernelSize
        weight = Parameter(Initializer.kaimingNormal(shape: [outputChannels, kernelSize, kernelSize, inputChannels / groups],
                                                     fanIn: fanIn),
                           kind: .latentBinary, layout: .convolutionOHWI)
    }

    /// `weight`.
    public var ownParameters: [(name: String, parameter: Parameter)] { [("weight", weight)] }

    /// E.g. `BinaryConv2D(64→64, 3×3, stride 1, approx_sign)`.
    public var summaryDescription: String {
        "BinaryConv2D(\(inputChannels)→\(outputChannels), \(kernelSize)×\(kernelSize), stride \(stride)"
            + (groups > 1 ? ", groups \(groups)" : "") + (inputQuantizer.map { ", \($0.quantizer.name)" } ?? "") + ")"
    }

    /// The geometry for an N×H×W×C input shape.
    public func geometry(forInputShape shape: [Int]) -> ConvolutionGeometry {
        ConvolutionGeometry(layer: "BinaryConv2D", inputShape: shape, inputChannels: inputChannels,
                            outputChannels: outputChannels, kernelSize: kernelSize, stride: stride, padding: padding)
    }

    /// The geometry of one channel group (the whole layer when ``groups`` is 1).
    public func groupGeometry(forInputShape shape: [Int]) -> ConvolutionGeometry {
        var g = geometry(forInputShape: shape)
        g.inputChannels /= groups
        g.outputChannels /= groups
        return g
    }

    /// N×OH×OW×O.
    public func outputShape(forInputShape shape: [Int]) -> [Int] { geometry(forInputShape: shape).outputShape }

    /// Binary MACs when the input is binarised, else real ones.
    public func multiplyAccumulates(forInputShape shape: [Int]) -> (binary: Int, real: Int) {
        let macs = groupGeometry(forInputShape: shape).macs * groups
        return inputQuantizer == nil ? (0, macs) : (macs, 0)
    }

    /// `α[o] = mean|W[o]|` (or 1 without scaling), from the current latent weights.
    ///
    /// The magnitudes are summed in `Double` in eight lanes by index, added up in a fixed order:
    /// exactly the α that packing the weights computes (``PackedWeights/alpha``), which the XNOR path
    /// uses instead of a pass of its own.
    public func outputScale() -> [Float] {
        guard scalesOutput else { return [Float](repeating: 1, count: outputChannels) }
        let perChannel = weight.value.count / outputChannels
        return weight.value.withUnsafeBufferPointer { w in
            withUnsafeTemporaryAllocation(of: Double.self, capacity: 8) { lanes in
                (0..<outputChannels).map { o in
                    lanes.initialize(repeating: 0)
                    bnn_lane_abs_sum(w.baseAddress! + o * perChannel, perChannel, lanes.baseAddress!)
                    let sum = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]))
                    return Float(sum / Double(perChannel))
                }
            }
        }
    }

    /// `conv(sign(x), sign(W)) · α` for N×H×W×C input.
    ///
    /// When the input is binarised, the convolution runs on bit-packed signs with the XNOR-popcount
    /// kernel: the products sum to exact integers, so the result is bit-identical to the float
    /// convolution of the signs. A weight of exactly 0 (sign 0) stays exact there (the prepared kernel
    /// corrects for it, see ``PreparedBinaryConvolution``); an input holding an exact zero (sign 0,
    /// which one bit cannot represent) takes the float path instead. Either way the backward pass
    /// sees the same float definition, sign(0) = 0. A recording pass keeps the packed signs for the
    /// weight gradient (1 bit per input value) rather than the float signs. The bits are packed from
    /// the input itself (a value and its sign pack alike, and a zero or NaN in either counts as
    /// unrepresentable), so the float signs are computed only on the float path.
    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        let g = geometry(forInputShape: input.shape)
        let signWeights = weightQuantizer.forward(weight.value)
        if let inputQuantizer {
            inputQuantizer.record(input, mode: mode)
            if groups == 1, let (output, signs, scale) = xnorConvolution(input) {
                recorded = mode.recordsForBackward ? (.signs(signs), signWeights, scale) : nil
                return output
            }
        }
        let scale = outputScale()
        let binaryInput = inputQuantizer?.quantizer.forward(input) ?? input
        recorded = mode.recordsForBackward ? (.floats(binaryInput), signWeights, scale) : nil
        let output = GroupedConvolution.forward(input: binaryInput, weight: signWeights,
                                                geometry: groupGeometry(forInputShape: g.inputShape), groups: groups,
                                                precision: precision.forward)
        return output.channelAffine(scale: scale, shift: [Float](repeating: 0, count: outputChannels))
    }

    /// The XNOR-popcount convolution of the signs of `input`, scaled by α (``outputScale()``, here
    /// from the packed weights), the packed signs (kept for the weight gradient) and α; `nil` when an
    /// input sign is 0.
    private func xnorConvolution(_ input: Tensor) -> (Tensor, PackedActivations, [Float])? {
        do {
            let packed = try PackedActivations(packing: input, margin: padding)
            guard packed.isExact else { return nil }
            let weights = try PackedWeights(packing: weight.value)
            let scale = scalesOutput ? weights.alpha : [Float](repeating: 1, count: outputChannels)
            return (try BinaryConvolution.forward(packed, weights: weights, stride: stride, padding: padding,
                                                  transform: BinaryOutputTransform(scale: scale)), packed, scale)
        } catch {
            preconditionFailure("BinaryConv2D: packed convolution rejected its own shapes: \(error)")
        }
    }

    /// Accumulates the straight-through weight gradient and returns the input gradient.
    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard let (binaryInput, signWeights, scale) = recorded else {
            preconditionFailure("BinaryConv2D.backward without a recording forward pass")
        }
        recorded = nil
        let g = groupGeometry(forInputShape: binaryInput.shape)
        let scaledGradient = outputGradient.channelAffine(scale: scale, shift: [Float](repeating: 0, count: outputChannels))
        let signGradient = binaryInput.weightGradient(
            outputGradient: weightGradientIncludesScale ? scaledGradient : outputGradient, geometry: g, groups: groups,
            precision: precision.backward)
        weight.accumulateGradient(weightQuantizer.backward(input: weight.value, outputGradient: signGradient))
        let binaryInputGradient = GroupedConvolution.backwardInput(outputGradient: scaledGradient, weight: signWeights,
                                                                   geometry: g, groups: groups,
                                                                   precision: precision.backward)
        return inputQuantizer?.backward(binaryInputGradient) ?? binaryInputGradient
    }
}
