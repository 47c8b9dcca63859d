/// A fully connected layer `y = x·Wᵀ + b` on N×F input, with PyTorch's O×F weight layout.
///
/// Weights are initialised Kaiming-normal (fan-in), the bias uniform in ±1/√F.
public final class Linear: TensorLayer, PrecisionSelectable {
    /// The weights, O×F.
    public let weight: Parameter
    /// The bias, O elements, when enabled.
    public let bias: Parameter?
    /// Input features F.
    public let inputFeatures: Int
    /// Output features O.
    public let outputFeatures: Int

    /// The operand precision of this layer's products in each pass (default fp32).
    public var precision = PrecisionPolicy.fp32

    private var recordedInput: Tensor?

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
    public var summaryDescription: String { "Linear(\(inputFeatures)→\(outputFeatures))" }

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
        recordedInput = mode.recordsForBackward ? input : nil
        let n = input.shape[0]
        var output = Tensor(shape: [n, outputFeatures]) { y in
            input.withUnsafeBufferPointer { x in
                weight.value.withUnsafeBufferPointer { w in
                    GEMM.multiply(precision: precision.forward, transposeA: false, transposeB: true, m: n,
                                  n: outputFeatures, k: inputFeatures, a: x.baseAddress!, lda: inputFeatures,
                                  b: w.baseAddress!, ldb: inputFeatures, c: y.baseAddress!, ldc: outputFeatures,
                                  accumulate: false)
                }
            }
        }
        if let bias { output.addChannelVector(bias.value.scalars) }
        return output
    }

    /// Accumulates `dW = dyᵀ·x` and `db = Σ dy`, returns `dx = dy·W`.
    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard let input = recordedInput else { preconditionFailure("Linear.backward without a recording forward pass") }
        let n = input.shape[0]
        input.withUnsafeBufferPointer { x in
            outputGradient.withUnsafeBufferPointer { dy in
                weight.gradient.withUnsafeMutableBufferPointer { dw in
                    GEMM.multiply(precision: precision.backward, transposeA: true, transposeB: false,
                                  m: outputFeatures, n: inputFeatures, k: n, a: dy.baseAddress!, lda: outputFeatures,
                                  b: x.baseAddress!, ldb: inputFeatures, c: dw.baseAddress!, ldc: inputFeatures,
                                  accumulate: true)
                }
            }
        }
        if let bias { bias.accumulateGradient(Tensor(shape: [outputFeatures], scalars: outputGradient.sumPerChannel())) }
        return Tensor(shape: [n, inputFeatures]) { dx in
            outputGradient.withUnsafeBufferPointer { dy in
                weight.value.withUnsafeBufferPointer { w in
                    GEMM.multiply(precision: precision.backward, transposeA: false, transposeB: false, m: n,
                                  n: inputFeatures, k: outputFeatures, a: dy.baseAddress!, lda: outputFeatures,
                                  b: w.baseAddress!, ldb: inputFeatures, c: dx.baseAddress!, ldc: inputFeatures,
                                  accumulate: false)
                }
            }
        }
    }
}
