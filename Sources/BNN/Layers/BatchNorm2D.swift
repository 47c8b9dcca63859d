import BNNKernels

/// Batch normalisation over the last (channel) axis of N×H×W×C or N×C input, with PyTorch semantics.
///
/// In training mode the batch mean and biased variance over N·H·W normalise the input, and — only
/// when the mode's ``ForwardMode/updatesRunningStatistics`` is set — the running statistics are
/// updated: `running = (1 − momentum)·running + momentum·batch`, using the unbiased variance, and
/// `num_batches_tracked` increases by one. In evaluation mode the running statistics are used.
///
/// Checkpoint names: `weight` (γ), `bias` (β), `running_mean`, `running_var`, `num_batches_tracked`.
///
/// Synchronised BatchNorm: set ``statisticsReducer`` to compute the training statistics over the
/// batches of all replicas of a data-parallel job instead of this process's batch alone.
public final class BatchNorm2D: TensorLayer {
    /// γ, one per channel, initialised to 1.
    public let weight: Parameter
    /// β, one per channel, initialised to 0.
    public let bias: Parameter
    /// Running mean (buffer).
    public let runningMean: Parameter
    /// Running variance (buffer).
    public let runningVariance: Parameter
    /// Number of training batches seen (buffer, saved as int64).
    public let batchesTracked: Parameter
    /// Channel count.
    public let channels: Int
    /// Weight of the new batch in the running statistics.
    public let momentum: Float
    /// Added to the variance before the square root.
    public let epsilon: Float

    /// Sums per-channel statistics over all replicas of a data-parallel job (synchronised BatchNorm),
    /// or `nil` (the default) to use this process's batch alone.
    ///
    /// Called only in training mode, on the thread running the layer, with sums in `Double`:
    /// - by ``forward(_:mode:)`` with `2·C + 1` values: Σx for each channel, Σx² for each channel, then
    ///   the number of values per channel (N·H·W);
    /// - by ``backward(_:)`` with `2·C` values: Σdy for each channel, then Σdy·x̂ for each channel.
    ///
    /// The reducer replaces every value in place by its sum over all replicas (an all-reduce). The
    /// mean, variance, running statistics and input gradient are then exactly those of the
    /// concatenated global batch; the γ and β gradients stay this replica's own sums, to be averaged
    /// with the other gradients. Every replica must run the same forward and backward passes in the
    /// same order, or the reductions pair up wrongly.
    public var statisticsReducer: ((inout [Double]) -> Void)?

    private var recorded: (normalized: Tensor, inverseStd: [Float], training: Bool, count: Double)?

    /// Creates a BatchNorm layer for `channels` channels.
    public init(channels: Int, momentum: Float = 0.1, epsilon: Float = 1e-5) {
        self.channels = channels
        self.momentum = momentum
        self.epsilon = epsilon
        weight = Parameter(Tensor(repeating: 1, shape: [channels]), kind: .real)
        bias = Parameter(Tensor(zeros: [channels]), kind: .real)
        runningMean = Parameter(Tensor(zeros: [channels]), kind: .buffer)
        runningVariance = Parameter(Tensor(repeating: 1, shape: [channels]), kind: .buffer, isNonNegative: true)
        batchesTracked = Parameter(Tensor(zeros: []), kind: .buffer, storesAsInteger: true)
    }

    /// γ, β and the running statistics under PyTorch's names.
    public var ownParameters: [(name: String, parameter: Parameter)] {
        [("weight", weight), ("bias", bias), ("running_mean", runningMean), ("running_var", runningVariance),
         ("num_batches_tracked", batchesTracked)]
    }

    /// E.g. `BatchNorm2D(64)`.
    public var summaryDescription: String { "BatchNorm2D(\(channels))" }

    /// Normalises `input` per channel.
    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        precondition(input.channelCount == channels, "BatchNorm2D: expected \(channels) channels, got shape \(input.shape)")
        let count = input.count / channels
        var statisticsCount = Double(count)
        var mean = [Float](repeating: 0, count: channels)
        var inverseStd = [Float](repeating: 0, count: channels)
        if mode.isTraining {
            let c = channels
            var sums = input.withUnsafeBufferPointer { x in
                Parallel.rowBlockSums(rows: count, sumsPerRow: 2 * c) { rows, s in
                    bnn_channel_sum_squares(x.baseAddress! + rows.lowerBound * c, rows.count, c, s)
                }
            }
            sums.append(Double(count))
            statisticsReducer?(&sums)
            let n = sums[2 * channels]
            statisticsCount = n
            for j in 0..<channels {
                let m = sums[j] / n
                let variance = max(0, sums[channels + j] / n - m * m)
                mean[j] = Float(m)
                inverseStd[j] = Float(1 / (variance + Double(epsilon)).squareRoot())
                if mode.updatesRunningStatistics {
                    let unbiased = n > 1 ? variance * n / (n - 1) : variance
                    runningMean.value.withUnsafeMutableBufferPointer { $0[j] = (1 - momentum) * $0[j] + momentum * Float(m) }
                    runningVariance.value.withUnsafeMutableBufferPointer {
                        $0[j] = (1 - momentum) * $0[j] + momentum * Float(unbiased)
                    }
                }
            }
            if mode.updatesRunningStatistics { batchesTracked.value.withUnsafeMutableBufferPointer { $0[0] += 1 } }
        } else {
            mean = runningMean.value.scalars
            inverseStd = runningVariance.value.scalars.map { 1 / ($0 + epsilon).squareRoot() }
        }
        let shift = (0..<channels).map { -mean[$0] * inverseStd[$0] }
        let (output, normalized) = Self.normalize(input, scale: inverseStd, shift: shift, gamma: weight.value.scalars,
                                                  beta: bias.value.scalars, keepsNormalized: mode.recordsForBackward)
        recorded = normalized.map { ($0, inverseStd, mode.isTraining, statisticsCount) }
        return output
    }

    /// `y = x̂·γ + β` with `x̂ = x·scale + shift` per channel, in one pass over memory, and x̂ itself when
    /// `keepsNormalized` (what the backward pass needs). Each value is rounded after every multiply and
    /// add, exactly as two ``Tensor/channelAffine(scale:shift:)`` passes would.
    static func normalize(_ input: Tensor, scale: [Float], shift: [Float], gamma: [Float], beta: [Float],
                          keepsNormalized: Bool) -> (output: Tensor, normalized: Tensor?) {
        let c = input.channelCount
        // The four per-channel vectors side by side: scale, shift, γ, β.
        let constants = scale + shift + gamma + beta
        var normalized: Tensor?
        let output = Tensor(shape: input.shape) { y in
            input.withUnsafeBufferPointer { x in
                constants.withUnsafeBufferPointer { k in
                    let rows = x.count / Swift.max(c, 1)
                    let pass = { (n: UnsafeMutableBufferPointer<Float>?) in
                        Parallel.forEachRowRange(rows, rowLength: c) { range in
                            let offset = range.lowerBound * c
                            bnn_batchnorm_normalize(x.baseAddress! + offset, range.count, c, k.baseAddress!,
                                                    n.map { $0.baseAddress! + offset }, y.baseAddress! + offset)
                        }
                    }
                    if keepsNormalized {
                        normalized = Tensor(shape: input.shape) { n in pass(n) }
                    } else {
                        pass(nil)
                    }
                }
            }
        }
        return (output, normalized)
    }

    /// Accumulates γ and β gradients and returns the input gradient (through the batch statistics in
    /// training mode; through the global batch's when ``statisticsReducer`` is set).
    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard let (normalized, inverseStd, training, count) = recorded else {
            preconditionFailure("BatchNorm2D.backward without a recording forward pass")
        }
        recorded = nil
        let c = channels
        let sums = outputGradient.withUnsafeBufferPointer { dy in
            normalized.withUnsafeBufferPointer { xhat in
                Parallel.rowBlockSums(rows: dy.count / c, sumsPerRow: 2 * c) { rows, s in
                    let offset = rows.lowerBound * c
                    bnn_channel_sum_dot(dy.baseAddress! + offset, xhat.baseAddress! + offset, rows.count, c, s)
                }
            }
        }
        var sumDy = Array(sums[0..<c])
        var sumDyXhat = Array(sums[c...])
        weight.accumulateGradient(Tensor(shape: [c], scalars: sumDyXhat.map { Float($0) }))
        bias.accumulateGradient(Tensor(shape: [c], scalars: sumDy.map { Float($0) }))
        let gamma = weight.value.scalars
        var n = Double(outputGradient.count / c)
        if training, let statisticsReducer {
            var sums = sumDy + sumDyXhat
            statisticsReducer(&sums)
            sumDy = Array(sums[0..<c])
            sumDyXhat = Array(sums[c...])
            n = count
        }
        // dx = γ/σ · (dy − mean(dy) − x̂·mean(dy·x̂)) in training; γ/σ · dy in evaluation.
        // The three per-channel vectors side by side: γ/σ, mean(dy), mean(dy·x̂).
        let constants = (0..<c).map { gamma[$0] * inverseStd[$0] }
            + (training ? sumDy.map { Float($0 / n) } : [Float](repeating: 0, count: c))
            + (training ? sumDyXhat.map { Float($0 / n) } : [Float](repeating: 0, count: c))
        return Tensor(shape: outputGradient.shape) { dx in
            outputGradient.withUnsafeBufferPointer { dy in
                normalized.withUnsafeBufferPointer { xhat in
                    constants.withUnsafeBufferPointer { k in
                        Parallel.forEachRowRange(dx.count / c, rowLength: c) { rows in
                            let offset = rows.lowerBound * c
                            bnn_batchnorm_input_gradient(dy.baseAddress! + offset, xhat.baseAddress! + offset, rows.count,
                                                         c, k.baseAddress!, dx.baseAddress! + offset)
                        }
                    }
                }
            }
        }
    }
}
