/// An estimate of the memory a training run of a ``BiRealNetConfiguration`` needs, computed from the
/// configuration alone (nothing is allocated), in bytes. Arithmetic is in `Double`, so absurd
/// configurations give huge numbers instead of overflowing.
public struct TrainingMemoryEstimate: Sendable, Equatable {
    /// Trainable parameters and BatchNorm statistics.
    public var parameterCount: Double
    /// Parameters with their gradients and two optimizer moments (Adam): 16 bytes each.
    public var parameterBytes: Double
    /// Activations kept for the backward pass of one batch, plus the loader's batches in flight.
    public var activationBytes: Double
    /// The sum.
    public var totalBytes: Double { parameterBytes + activationBytes }
}

extension BiRealNetConfiguration {
    /// Floats per activation element of a block at the peak of a training step: what the backward
    /// pass keeps (the sign's input and BatchNorm's normalised input as floats, the signs and the
    /// clamp's mask as bits) and the gradients and expanded signs alive while a block is
    /// differentiated, calibrated on Bi-Real Net 34 at 224 pixels, where the measured peak is about
    /// 45 MB per image of the batch (1.1 GiB at batch 16, 1.8 GiB at batch 32).
    static let floatsPerActivation = 3.5

    /// Estimates the memory of training this configuration on `batchSize` square images of
    /// `imageSize` pixels with Adam (a few loader batches in flight included).
    public func trainingMemoryEstimate(batchSize: Int, imageSize: Int) -> TrainingMemoryEstimate {
        let stemKernel = stem == .imagenet ? 7.0 : 3.0
        var size = Double(imageSize)
        if stem == .imagenet { size = (size / 2).rounded(.up) }          // stride-2 convolution
        var parameters = 3 * stemKernel * stemKernel * Double(widths[0]) + 4 * Double(widths[0])
        var activations = 2 * size * size * Double(widths[0])          // stem convolution and BatchNorm outputs
        if stem == .imagenet { size = (size / 2).rounded(.up) }          // max-pool
        var inputChannels = Double(widths[0])
        for (stage, (blocks, width)) in zip(blocksPerStage, widths).enumerated() {
            let channels = Double(width)
            for block in 0..<blocks {
                if stage > 0 && block == 0 { size = (size / 2).rounded(.up) }
                let downsamples = (stage > 0 && block == 0) || inputChannels != channels
                parameters += 9 * inputChannels * channels + 4 * channels
                if downsamples { parameters += inputChannels * channels + 4 * channels }
                activations += Self.floatsPerActivation * size * size * channels
                inputChannels = channels
            }
        }
        parameters += inputChannels * Double(classes) + Double(classes) + 4 * inputChannels
        let batch = Double(batchSize)
        let inputBytes = 4 * 4 * batch * Double(imageSize * imageSize) * 3   // four batches in flight
        return TrainingMemoryEstimate(parameterCount: parameters, parameterBytes: 16 * parameters,
                                      activationBytes: 4 * batch * activations + inputBytes)
    }
}
