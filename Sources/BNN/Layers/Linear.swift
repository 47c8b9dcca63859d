/// A fully connected layer `y = x·Wᵀ + b` on N×F input, with PyTorch's O×F weight layout.
///
/// Weights are initialised Kaiming-normal (fan-in), the bias uniform in ±1/√F. A ``weightQuantizer``
/// (such as ``DoReFa``) multiplies by the quantized weights and takes the weight gradient through it.
public final class Linear: TensorLayer, PrecisionSelectable {
    /// The weights, O×F.
    public let weight: Parameter
    /// The bias, O elements, when enabled.
    public let bias: Parameter?
    /// Input features F.
    public let inputFeatures: Int
    /// Output features O.
    public let outputFeatures: Int
    /// Quantizes the weights in the forward pass; `nil` (the default) for float weights.
    public var weightQuantizer: (any Quantizer)?
    /// The operand precision of this layer's products in each pass (default fp32).
    public var precision = PrecisionPolicy.fp32

    private var recorded: (input: Tensor, weight: Tensor)?

    /// Creates a fully connected layer.
    public init(inputFeatures: Int, outputFeatures: Int, bias: Bool = true) {
        precondition(inputFeatures > 0 && outputFeatures > 0, "Linear: invalid configuration")
        self.inputFeatures = inputFeatures
        self.outputFeatures = outputFeatures
        weight = Parameter(Initializer.kaimingNormal(shape: [outputFeatures, inputFeatures], fanIn: inputFeatures), kind: .real)
        self.bias = bias ? Parameter(Initializer.fanInUniform(shape: [outputFeatures], fanIn: inputFeatures), kind: .real) : nil
    }

    /// `weight` and, when present, `bias`.
    public var ownParameters: [(name: String, parameter: Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    /// E.g. `Linear(512→1000)`.
    public var summaryDescription: String {
        "Linear(\(inputFeatures)→\(outputFeatures)" + (weightQuantizer.map { ", \($0.name)" } ?? "") + ")"
    }

    /// N×O.
    public func outputShape(forInputShape shape: [Int]) -> [Int] { [shape[0], outputFeatures] }

    /// N·F·O real MACs.
    public func multiplyAccumulates(forInputShape shape: [Int]) -> (binary: Int, real: Int) {
        (0, shape[0] * inputFeatures * outputFeatures)
    }

    /// `x·Wᵀ + b` for N×F input.
    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        precondition(input.rank == 2 && input.shape[1] == inputFeatures,
                     "Linear: expected N×\(inputFeatures) input, got \(input.shape)")
        let kernel = weightQuantizer?.quantize(weight.value) ?? weight.value
        recorded = mode.recordsForBackward ? (input, kernel) : nil
        var output = Self.product(input: input, weight: kernel, precision: precision.forward)
        if let bias { output.addChannelVector(bias.value.scalars) }
        return output
    }

    /// Accumulates `dW = dyᵀ·x` and `db = Σ dy`, returns `dx = dy·W`.
    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard let (input, kernel) = recorded else { preconditionFailure("Linear.backward without a recording forward pass") }
        recorded = nil
        if let weightQuantizer {
            var kernelGradient = Tensor(zeros: weight.value.shape)
            Self.accumulateWeightGradient(input: input, outputGradient: outputGradient, into: &kernelGradient,
                                          precision: precision.backward)
            weight.accumulateGradient(weightQuantizer.backward(input: weight.value, outputGradient: kernelGradient))
        } else {
            Self.accumulateWeightGradient(input: input, outputGradient: outputGradient, into: &weight.gradient,
                                          precision: precision.backward)
        }
        if let bias { bias.accumulateGradient(Tensor(shape: [outputFeatures], scalars: outputGradient.sumPerChannel())) }
        return Self.inputGradient(outputGradient: outputGradient, weight: kernel, precision: precision.backward)
    }

    /// `x·Wᵀ` for N×F `input` and O×F `weight`: N×O.
    static func product(input: Tensor, weight: Tensor, precision: ComputePrecision = .fp32) -> Tensor {
        let n = input.shape[0], o = weight.shape[0], f = weight.shape[1]
        return Tensor(shape: [n, o]) { y in
            input.withUnsafeBufferPointer { x in
                weight.withUnsafeBufferPointer { w in
                    GEMM.multiply(precision: precision, transposeA: false, transposeB: true, m: n, n: o, k: f, a: x.baseAddress!, lda: f, b: w.baseAddress!, ldb: f,
                                    c: y.baseAddress!, ldc: o, accumulate: false)
                }
            }
        }
    }

    /// `dy·W` for N×O `outputGradient` and O×F `weight`: N×F.
    static func inputGradient(outputGradient: Tensor, weight: Tensor, precision: ComputePrecision = .fp32) -> Tensor {
        let n = outputGradient.shape[0], o = weight.shape[0], f = weight.shape[1]
        return Tensor(shape: [n, f]) { dx in
            outputGradient.withUnsafeBufferPointer { dy in
                weight.withUnsafeBufferPointer { w in
                    GEMM.multiply(precision: precision, transposeA: false, transposeB: false, m: n, n: f, k: o, a: dy.baseAddress!, lda: o, b: w.baseAddress!, ldb: f,
                                    c: dx.baseAddress!, ldc: f, accumulate: false)
                }
            }
        }
    }

    /// `gradient += dyᵀ·x` for N×F `input` and N×O `outputGradient` (O×F `gradient`).
    static func accumulateWeightGradient(input: Tensor, outputGradient: Tensor, into gradient: inout Tensor,
                                         precision: ComputePrecision = .fp32) {
        let n = input.shape[0], o = outputGradient.shape[1], f = input.shape[1]
        input.withUnsafeBufferPointer { x in
            outputGradient.withUnsafeBufferPointer { dy in
                gradient.withUnsafeMutableBufferPointer { dw in
                    GEMM.multiply(precision: precision, transposeA: true, transposeB: false, m: o, n: f, k: n, a: dy.baseAddress!, lda: o, b: x.baseAddress!, ldb: f,
                                    c: dw.baseAddress!, ldc: f, accumulate: true)
                }
            }
        }
    }
}
