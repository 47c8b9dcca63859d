/// A learnable shift per channel (last axis): `y = x + b[c]` (ReActNet's `LearnableBias`, the `move`
/// layers).
///
/// Before a sign it is ReActNet's RSign (a learned threshold); around a ``PReLU`` it is RPReLU
/// (`LearnableBias → PReLU → LearnableBias`). The shift is initialised to zero, held as C elements and
/// saved as 1×C×1×1 (``ParameterLayout/channelBroadcast``), checkpoint name `bias`.
public final class LearnableBias: TensorLayer {
    /// The shift, C elements.
    public let bias: Parameter
    private var recordsForBackward = false

    /// Creates the layer for `channels` channels with a zero shift.
    public init(channels: Int) {
        precondition(channels > 0, "LearnableBias: channels must be positive")
        bias = Parameter(Tensor(zeros: [channels]), kind: .real, layout: .channelBroadcast)
    }

    /// `bias`.
    public var ownParameters: [(name: String, parameter: Parameter)] { [("bias", bias)] }

    /// E.g. `LearnableBias(64)`.
    public var summaryDescription: String { "LearnableBias(\(bias.value.count))" }

    /// `x + b[c]` for input whose last axis has C elements.
    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        precondition(input.channelCount == bias.value.count,
                     "LearnableBias: expected \(bias.value.count) channels, got shape \(input.shape)")
        recordsForBackward = mode.recordsForBackward
        return input.addingChannelVector(bias.value.scalars)
    }

    /// Accumulates `Σ dy` per channel into the shift; returns `dy` unchanged.
    public func backward(_ outputGradient: Tensor) -> Tensor {
        precondition(recordsForBackward, "LearnableBias.backward without a recording forward pass")
        bias.accumulateGradient(Tensor(shape: [bias.value.count], scalars: outputGradient.sumPerChannel()))
        return outputGradient
    }
}
