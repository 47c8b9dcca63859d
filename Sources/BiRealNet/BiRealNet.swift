import BNN

/// Bi-Real Net (Liu et al., ECCV 2018): a ResNet whose 3×3 convolutions are binary, each with its own
/// real-valued shortcut, built from `BNN` layers.
///
/// Input is N×H×W×3 (channels-last); output N×classes logits. Parameter names are exactly those of the
/// reference's PyTorch `state_dict` (`conv1.weight`, `layer1.0.binary_conv.weight`,
/// `layer2.0.downsample.1.weight`, `bn2.running_var`, `fc.bias`, …), so checkpoints interchange.
public final class BiRealNet: LayerPipeline, BackwardProgressReporting {
    /// The configuration the model was built from.
    public let configuration: BiRealNetConfiguration
    /// The stem convolution. It computes no gradient for the images (its
    /// ``BNN/Conv2D/computesInputGradient`` is false, which saves a convolution as large as its forward
    /// pass in every training step); set that to true for saliency maps or adversarial examples.
    public let conv1: Conv2D
    /// The stem BatchNorm.
    public let bn1: BatchNorm2D
    /// The stem activation.
    public let stemActivation = HardTanh()
    /// The stem max-pool (ImageNet stem only).
    public let maxPool: MaxPool2D?
    /// The four stages of residual blocks.
    public let stages: [Sequential]
    /// Global average pooling.
    public let pool = GlobalAvgPool()
    /// BatchNorm on the pooled features (reference variant only).
    public let bn2: BatchNorm2D?
    /// The classifier.
    public let fc: Linear

    /// Builds a model with freshly initialised weights (seed them with `Initializer.seed(_:)`).
    public init(_ configuration: BiRealNetConfiguration) {
        self.configuration = configuration
        let c = configuration
        switch c.stem {
        case .imagenet:
            conv1 = Conv2D(inputChannels: 3, outputChannels: c.widths[0], kernelSize: 7, stride: 2, padding: 3)
            maxPool = MaxPool2D(kernelSize: 3, stride: 2, padding: 1)
        case .small:
            conv1 = Conv2D(inputChannels: 3, outputChannels: c.widths[0], kernelSize: 3, stride: 1, padding: 1)
            maxPool = nil
        }
        conv1.computesInputGradient = false
        bn1 = BatchNorm2D(channels: c.widths[0])
        var inputChannels = c.widths[0]
        var stages: [Sequential] = []
        var residuals: [Residual] = []
        for (stage, (blocks, width)) in zip(c.blocksPerStage, c.widths).enumerated() {
            var layers: [any TensorLayer] = []
            for block in 0..<blocks {
                let stride = (stage > 0 && block == 0) ? 2 : 1
                let residual = Self.block(inputChannels: inputChannels, outputChannels: width, stride: stride, variant: c.variant)
                residuals.append(residual)
                layers.append(residual)
                inputChannels = width
            }
            stages.append(Sequential(layers))
        }
        self.stages = stages
        bn2 = c.variant == .reference ? BatchNorm2D(channels: inputChannels) : nil
        fc = Linear(inputFeatures: inputChannels, outputFeatures: c.classes)
        // Drop-path generators are seeded after every weight, so the initial weights do not depend on the rate.
        DropPath.assign(maximumRate: c.dropPathRate, to: residuals)
    }

    /// One Bi-Real block: `post(bn1(binary_conv(x)) + shortcut(x))`, where the shortcut is the identity or,
    /// when the stride or width changes, `downsample = [AvgPool 2×2/stride, Conv 1×1, BatchNorm]`.
    ///
    /// The average pool rounds its output size up (`ceil_mode`), so odd feature maps (7×7 with 28-pixel
    /// input) match the stride-2 convolution; on the even sizes of 224- and 32-pixel inputs this is
    /// exactly the reference's `AvgPool2d(2, stride 2)`.
    public static func block(inputChannels: Int, outputChannels: Int, stride: Int,
                             variant: BiRealNetConfiguration.Variant) -> Residual {
        let activation = SignActivation(quantizer: ApproxSign(), normalizesVariance: variant == .reference)
        let weightQuantizer: any SignQuantizer = variant == .reference ? SteSign(clipValue: nil) : SteSign(clipValue: 1)
        let body = Sequential(named: [
            ("binary_conv", BinaryConv2D(inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: 3,
                                         stride: stride, padding: 1, inputQuantizer: activation,
                                         weightQuantizer: weightQuantizer)),
            ("bn1", BatchNorm2D(channels: outputChannels)),
        ])
        var shortcut: Sequential?
        if stride != 1 || inputChannels != outputChannels {
            shortcut = Sequential {
                AvgPool2D(kernelSize: stride, stride: stride, ceilMode: true)
                Conv2D(inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: 1)
                BatchNorm2D(channels: outputChannels)
            }
        }
        return Residual(body: body, shortcut: shortcut, post: variant == .reference ? HardTanh() : nil)
    }

    /// `conv1`, `bn1`, `layer1`…`layer4`, `bn2` (reference variant) and `fc`.
    public var children: [(name: String, module: any Module)] {
        var result: [(name: String, module: any Module)] = [("conv1", conv1), ("bn1", bn1)]
        for (i, stage) in stages.enumerated() { result.append(("layer\(i + 1)", stage)) }
        if let bn2 { result.append(("bn2", bn2)) }
        result.append(("fc", fc))
        return result
    }

    /// E.g. `BiRealNet(birealnet34, reference, imagenet stem)`.
    public var summaryDescription: String {
        let c = configuration
        return "BiRealNet(\(c.blocksPerStage), widths \(c.widths), \(c.variant.rawValue), \(c.stem.rawValue) stem)"
    }

    /// The layers in data-flow order, with the names used in summaries: `conv1`, `bn1`, `act`,
    /// `maxpool` (ImageNet stem), `layer1`…`layer4`, `avgpool`, `bn2` (reference variant), `fc`.
    public var pipelineLayers: [(name: String, layer: any TensorLayer)] {
        var result: [(name: String, layer: any TensorLayer)] = [("conv1", conv1), ("bn1", bn1), ("act", stemActivation)]
        if let maxPool { result.append(("maxpool", maxPool)) }
        for (i, stage) in stages.enumerated() { result.append(("layer\(i + 1)", stage)) }
        result.append(("avgpool", pool))
        if let bn2 { result.append(("bn2", bn2)) }
        result.append(("fc", fc))
        return result
    }

    /// Logits N×classes for N×H×W×3 images.
    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        precondition(input.rank == 4 && input.shape[3] == 3, "BiRealNet: expected N×H×W×3 input, got \(input.shape)")
        return pipelineLayers.reduce(input) { $1.layer.forward($0, mode: mode) }
    }

    /// Called after the backward pass of each layer of the pipeline (the stem's, each stage's, the
    /// classifier's) with that layer (see ``BNN/BackwardProgressReporting``).
    public var childBackwardDidFinish: ((any Module) -> Void)?

    /// Back-propagates the gradient of the logits through the whole network.
    public func backward(_ outputGradient: Tensor) -> Tensor {
        pipelineLayers.reversed().reduce(outputGradient) { gradient, item in
            let result = item.layer.backward(gradient)
            childBackwardDidFinish?(item.layer)
            return result
        }
    }
}
