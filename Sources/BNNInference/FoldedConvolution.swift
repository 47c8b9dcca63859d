import BNN

/// A real-valued convolution of an exported model with the BatchNorm that followed it folded in:
/// `W'[o] = W[o]·γ[o]/√(σ²[o]+ε)` and `bias[o] = β[o] − μ[o]·γ[o]/√(σ²[o]+ε)`.
///
/// Used for the stem (7×7 or 3×3) and for the 1×1 convolution of a downsampling shortcut, whose
/// bias is folded further into the binary convolution beside it (``bias`` is then nil).
/// ``weight`` is O×k×k×C, row-major (channels last, as `Conv2D.weight`).
public struct FoldedConvolution: Sendable, Equatable {
    /// Output channels O.
    public let outputChannels: Int
    /// Input channels C.
    public let inputChannels: Int
    /// Square kernel size k.
    public let kernelSize: Int
    /// Stride in both directions.
    public let stride: Int
    /// Symmetric zero padding.
    public let padding: Int
    /// The folded weights, O·k·k·C floats.
    public let weight: [Float]
    /// The folded bias (O values), or nil when it was folded further downstream.
    public let bias: [Float]?

    /// Creates a folded convolution.
    ///
    /// - Precondition: `weight` has O·k·k·C values and `bias`, when set, O values (programmer error;
    ///   the file reader checks shapes before).
    public init(outputChannels: Int, inputChannels: Int, kernelSize: Int, stride: Int, padding: Int,
                weight: [Float], bias: [Float]?) {
        precondition(outputChannels > 0 && inputChannels > 0 && kernelSize > 0 && stride > 0 && padding >= 0,
                     "FoldedConvolution: invalid geometry")
        precondition(weight.count == outputChannels * kernelSize * kernelSize * inputChannels,
                     "FoldedConvolution: \(weight.count) weights do not fit the geometry")
        precondition(bias.map { $0.count == outputChannels } ?? true, "FoldedConvolution: bias needs \(outputChannels) values")
        self.outputChannels = outputChannels
        self.inputChannels = inputChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        self.weight = weight
        self.bias = bias
    }

    /// Folds an inference-mode BatchNorm into convolution weights O×k×k×C (or O×C for 1×1).
    ///
    /// - Returns: the folded weights and the shift per output channel (computed in `Double`).
    public static func fold(weight: [Float], outputChannels: Int, batchNorm bn: BatchNorm2D) -> (weight: [Float], shift: [Float]) {
        let perChannel = weight.count / outputChannels
        let (scale, shift) = batchNormAffine(bn)
        var folded = weight
        for o in 0..<outputChannels {
            for i in o * perChannel..<(o + 1) * perChannel { folded[i] = weight[i] * scale[o] }
        }
        return (folded, shift)
    }

    /// The inference-mode BatchNorm as `y = x·scale + shift` per channel:
    /// `scale = γ/√(σ²+ε)`, `shift = β − μ·scale` (in `Double`, rounded once).
    public static func batchNormAffine(_ bn: BatchNorm2D) -> (scale: [Float], shift: [Float]) {
        let gamma = bn.weight.value.scalars, beta = bn.bias.value.scalars
        let mean = bn.runningMean.value.scalars, variance = bn.runningVariance.value.scalars
        var scale = [Float](repeating: 0, count: bn.channels), shift = [Float](repeating: 0, count: bn.channels)
        for c in 0..<bn.channels {
            let s = Double(gamma[c]) / (Double(variance[c]) + Double(bn.epsilon)).squareRoot()
            scale[c] = Float(s)
            shift[c] = Float(Double(beta[c]) - Double(mean[c]) * s)
        }
        return (scale, shift)
    }

    /// Output height or width for an input extent: `(n + 2·padding − k) / stride + 1`.
    public func outputExtent(_ n: Int) -> Int { (n + 2 * padding - kernelSize) / stride + 1 }
}
