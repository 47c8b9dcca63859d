import BNNKernels

/// ReActNet's RPReLU, `PReLU(x + b₁) + b₂` with a learnable shift per channel before and after a
/// ``PReLU``, run as one layer: one pass over the activations forward and one backward, where the
/// three layers one after another take three passes each way.
///
/// Its parts are the three layers themselves (``shiftBefore``, ``prelu``, ``shiftAfter``), under the
/// names it is given, so parameters, checkpoint names (`move12.bias`, `prelu1.weight`,
/// `move13.bias`), the model summary and the exporter (``LayerPipeline``) see exactly the chain of
/// three; the outputs and gradients are those of the chain, bit for bit.
public final class RPReLU: LayerPipeline {
    /// The shift before the PReLU (`b₁`).
    public let shiftBefore: LearnableBias
    /// The PReLU and its slopes.
    public let prelu: PReLU
    /// The shift after the PReLU (`b₂`).
    public let shiftAfter: LearnableBias
    /// The names of the three parts.
    public let names: (shiftBefore: String, prelu: String, shiftAfter: String)
    private var recordedInput: Tensor?

    /// Creates the layer for `channels` channels (shifts 0, slopes 0.25), its parts named `names`.
    public init(channels: Int, names: (shiftBefore: String, prelu: String, shiftAfter: String)) {
        shiftBefore = LearnableBias(channels: channels)
        prelu = PReLU(channels: channels)
        shiftAfter = LearnableBias(channels: channels)
        self.names = names
    }

    /// The three parts in data-flow order under their names.
    public var pipelineLayers: [(name: String, layer: any TensorLayer)] {
        [(names.shiftBefore, shiftBefore), (names.prelu, prelu), (names.shiftAfter, shiftAfter)]
    }

    /// The three parts under their names.
    public var children: [(name: String, module: any Module)] { pipelineLayers.map { ($0.name, $0.layer) } }

    /// `PReLU(x + b₁) + b₂` per channel (last axis), each step rounded to `Float` as in the chain, in
    /// rows of pixels on the worker threads; a recording pass keeps the input.
    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        let c = prelu.weight.value.count
        precondition(input.channelCount == c, "RPReLU: expected \(c) channels, got shape \(input.shape)")
        recordedInput = mode.recordsForBackward ? input : nil
        return Tensor(shape: input.shape) { out in
            input.withUnsafeBufferPointer { x in
                withParameters { before, slopes, after in
                    Parallel.forEachRowRange(x.count / c, rowLength: c) { rows in
                        let offset = rows.lowerBound * c
                        bnn_rprelu_forward(x.baseAddress! + offset, rows.count, c, before, slopes, after,
                                           out.baseAddress! + offset)
                    }
                }
            }
        }
    }

    /// The input gradient; accumulates `Σ dy` into `b₂`, `Σ dy·(x + b₁)` over non-positive `x + b₁`
    /// into the slopes and `Σ dx` into `b₁` (in Double, in the blocks of rows of
    /// ``Tensor/sumPerChannel()``, so they equal the chain's).
    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard let input = recordedInput else { preconditionFailure("RPReLU.backward without a recording forward pass") }
        recordedInput = nil
        let c = prelu.weight.value.count
        var sums: [Double] = []
        let dx = Tensor(shape: input.shape) { dx in
            input.withUnsafeBufferPointer { x in
                outputGradient.withUnsafeBufferPointer { dy in
                    withParameters { before, slopes, _ in
                        sums = Parallel.rowBlockSums(rows: x.count / c, sumsPerRow: 3 * c,
                                                     rowsPerBlock: Parallel.channelSumRowsPerBlock(channels: c)) { rows, s in
                            let offset = rows.lowerBound * c
                            bnn_rprelu_backward(x.baseAddress! + offset, dy.baseAddress! + offset, rows.count, c, before,
                                                slopes, dx.baseAddress! + offset, s)
                        }
                    }
                }
            }
        }
        func gradient(_ part: Int) -> Tensor { Tensor(shape: [c], scalars: sums[part * c..<(part + 1) * c].map { Float($0) }) }
        shiftAfter.bias.accumulateGradient(gradient(0))
        prelu.weight.accumulateGradient(gradient(1))
        shiftBefore.bias.accumulateGradient(gradient(2))
        return dx
    }

    /// The three parameter vectors' storage.
    private func withParameters<R>(_ body: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>) -> R) -> R {
        shiftBefore.bias.value.withUnsafeBufferPointer { before in
            prelu.weight.value.withUnsafeBufferPointer { slopes in
                shiftAfter.bias.value.withUnsafeBufferPointer { after in
                    body(before.baseAddress!, slopes.baseAddress!, after.baseAddress!)
                }
            }
        }
    }
}
