import BNNKernels

/// Clamps every element to `[minimum, maximum]` (default [−1, 1]); the gradient passes only strictly
/// inside the interval, as PyTorch's `hardtanh_backward`.
public final class HardTanh: TensorLayer {
    /// Lower bound.
    public let minimum: Float
    /// Upper bound.
    public let maximum: Float
    private var recordedMask: ClampMask?

    /// Creates the layer.
    public init(minimum: Float = -1, maximum: Float = 1) {
        self.minimum = minimum
        self.maximum = maximum
    }

    /// `clamp(x, minimum, maximum)`; a recording pass keeps one bit per element for the backward pass.
    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        guard mode.recordsForBackward else {
            recordedMask = nil
            return clamp(input, minimum, maximum)
        }
        let (output, mask) = ClampMask.clamping(input, lo: minimum, hi: maximum)
        recordedMask = mask
        return output
    }

    /// `a = clamp(a + b, minimum, maximum)` in one pass; a recording pass keeps one bit per element.
    func forward(adding b: Tensor, to a: inout Tensor, mode: ForwardMode) {
        let mask = ClampMask.clamping(adding: b, to: &a, lo: minimum, hi: maximum)
        recordedMask = mode.recordsForBackward ? mask : nil
    }

    /// The gradient where `minimum < x < maximum`, else 0.
    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard let mask = recordedMask else { preconditionFailure("HardTanh.backward without a recording forward pass") }
        recordedMask = nil
        return mask.select(outputGradient)
    }
}

extension HardTanh: SumActivation {}

/// `max(x, 0)`; gradient where `x > 0`.
public final class ReLU: TensorLayer {
    private var recordedMask: ClampMask?

    /// Creates the layer.
    public init() {}

    /// `max(x, 0)`; a recording pass keeps one bit per element for the backward pass.
    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        guard mode.recordsForBackward else {
            recordedMask = nil
            return clamp(input, 0, .infinity)
        }
        let (output, mask) = ClampMask.clamping(input, lo: 0, hi: .infinity)
        recordedMask = mask
        return output
    }

    /// `a = max(a + b, 0)` in one pass; a recording pass keeps one bit per element.
    func forward(adding b: Tensor, to a: inout Tensor, mode: ForwardMode) {
        let mask = ClampMask.clamping(adding: b, to: &a, lo: 0, hi: .infinity)
        recordedMask = mode.recordsForBackward ? mask : nil
    }

    /// The gradient where `0 < x < ∞`, else 0.
    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard let mask = recordedMask else { preconditionFailure("ReLU.backward without a recording forward pass") }
        recordedMask = nil
        return mask.select(outputGradient)
    }
}

extension ReLU: SumActivation {}

/// Parametric ReLU with one learnable slope per channel (last axis): `x` if `x > 0`, else `a·x`.
/// Checkpoint name `weight`, initialised to 0.25 as in PyTorch.
public final class PReLU: TensorLayer {
    /// The negative slopes, one per channel.
    public let weight: Parameter
    private var recordedInput: Tensor?

    /// Creates the layer for `channels` channels.
    public init(channels: Int, initialSlope: Float = 0.25) {
        weight = Parameter(Tensor(repeating: initialSlope, shape: [channels]), kind: .real)
    }

    /// `weight`.
    public var ownParameters: [(name: String, parameter: Parameter)] { [("weight", weight)] }

    /// E.g. `PReLU(64)`.
    public var summaryDescription: String { "PReLU(\(weight.value.count))" }

    /// `x > 0 ? x : a[c]·x`, in rows of pixels on the worker threads.
    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        recordedInput = mode.recordsForBackward ? input : nil
        let c = weight.value.count
        precondition(input.channelCount == c, "PReLU: expected \(c) channels, got shape \(input.shape)")
        return Tensor(shape: input.shape) { out in
            input.withUnsafeBufferPointer { x in
                weight.value.withUnsafeBufferPointer { slopes in
                    Parallel.forEachRowRange(x.count / c, rowLength: c) { rows in
                        let offset = rows.lowerBound * c
                        bnn_prelu_forward(x.baseAddress! + offset, rows.count, c, slopes.baseAddress!,
                                          out.baseAddress! + offset)
                    }
                }
            }
        }
    }

    /// Accumulates `Σ dy·x` over non-positive inputs into the slopes (in Double, in fixed blocks of
    /// rows, the same for every thread count); returns the input gradient.
    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard let input = recordedInput else { preconditionFailure("PReLU.backward without a recording forward pass") }
        recordedInput = nil
        let c = weight.value.count
        var slopeSums: [Double] = []
        let dx = Tensor(shape: input.shape) { dx in
            input.withUnsafeBufferPointer { x in
                outputGradient.withUnsafeBufferPointer { dy in
                    weight.value.withUnsafeBufferPointer { slopes in
                        slopeSums = Parallel.rowBlockSums(rows: x.count / c, sumsPerRow: c,
                                                          rowsPerBlock: Parallel.channelSumRowsPerBlock(channels: c)) { rows, sums in
                            let offset = rows.lowerBound * c
                            bnn_prelu_backward(x.baseAddress! + offset, dy.baseAddress! + offset, rows.count, c,
                                               slopes.baseAddress!, dx.baseAddress! + offset, sums)
                        }
                    }
                }
            }
        }
        weight.accumulateGradient(Tensor(shape: [c], scalars: slopeSums.map { Float($0) }))
        return dx
    }
}

/// Reshapes N×… to N×F, keeping the channels-last element order (so F = H·W·C in that order, which
/// differs from PyTorch's C·H·W flattening of N×C×H×W data).
public final class Flatten: TensorLayer {
    private var recordedShape: [Int]?

    /// Creates the layer.
    public init() {}

    /// N×(product of the other dimensions).
    public func outputShape(forInputShape shape: [Int]) -> [Int] { [shape[0], shape.dropFirst().reduce(1, *)] }

    /// A reshape; no copy.
    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        recordedShape = mode.recordsForBackward ? input.shape : nil
        return input.reshaped(outputShape(forInputShape: input.shape))
    }

    /// The gradient reshaped back.
    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard let shape = recordedShape else { preconditionFailure("Flatten.backward without a recording forward pass") }
        return outputGradient.reshaped(shape)
    }
}

/// `min(max(x, lo), hi)` element-wise, split over the worker threads (vectorised C loop).
func clamp(_ input: Tensor, _ lo: Float, _ hi: Float) -> Tensor {
    Tensor(shape: input.shape) { out in
        input.withUnsafeBufferPointer { x in
            Parallel.forEachElementRange(x.count) { r in
                bnn_clamp(x.baseAddress! + r.lowerBound, out.baseAddress! + r.lowerBound, r.count, lo, hi)
            }
        }
    }
}

/// Passes its input through unchanged (a branch of ``Concatenate`` or a shortcut that only copies).
public final class Identity: TensorLayer {
    /// Creates the layer.
    public init() {}
    /// `x`.
    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor { input }
    /// `dy`.
    public func backward(_ outputGradient: Tensor) -> Tensor { outputGradient }
}
