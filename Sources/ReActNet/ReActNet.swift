import BNN

/// Builders of ReActNet-A, ReAct-ResNet-18 and the float ResNet-18/34 teachers from `BNN` layers.
///
/// Every model takes N×H×W×3 images to N×classes logits, and its parameter names are exactly those of
/// the reference's PyTorch `state_dict`: the authors' code (liuzechun/ReActNet) for the binary models
/// (`feature.3.move11.bias`, `feature.3.binary_3x3.weight`, `layer1.0.prelu.weight`, …) and
/// torchvision's for the ResNets (`layer2.0.downsample.0.weight`, …), so their checkpoints load with
/// ``BNN/Module/loadPyTorchWeights(from:strict:)-(URL,_)`` (`module.` prefixes and the authors' flat
/// `….weights` accepted).
///
/// The binary convolutions follow the authors' `HardBinaryConv`: sign activations with Bi-Real's
/// approximate-sign gradient, `α·sign(W)` weights with `α = mean|W|` per output channel, a
/// straight-through gradient clipped at |W| ≤ 1 that does not include α. Their weights are latent
/// binary parameters, so ``BNN/ParameterGroups/isLatentBinary(_:_:)`` and ``BNN/RoutedOptimizer``
/// find them; two-stage training keeps real weights in stage 1 (`binarizesWeights: false`).
public enum ReActNet {
    /// The model for `configuration`; with `binarizesWeights` false the binary convolutions keep
    /// real-valued weights (ReActNet's stage 1: binary activations, real weights).
    public static func model(_ configuration: ReActNetConfiguration, binarizesWeights: Bool = true) -> Sequential {
        switch configuration.architecture {
        case .reactNetA: return reactNetA(configuration, binarizesWeights: binarizesWeights)
        case .reactResNet18: return reactResNet(configuration, blocks: [4, 4, 4, 4], binarizesWeights: binarizesWeights)
        case .resnet18: return resNet(configuration, blocks: [2, 2, 2, 2])
        case .resnet34: return resNet(configuration, blocks: [3, 4, 6, 3])
        }
    }

    /// A binary convolution as the authors' `HardBinaryConv`, its input binarised by the sign.
    ///
    /// Stage 1 (`binarizesWeights` false) is a float ``BNN/Conv2D`` of the binary activations, as the
    /// authors' step-1 code uses `nn.Conv2d`, under the same name, so that stage 2 loads its checkpoint.
    public static func binaryConvolution(_ inputChannels: Int, _ outputChannels: Int, kernelSize: Int, stride: Int,
                                         binarizesWeights: Bool) -> any TensorLayer {
        let sign = SignActivation(quantizer: ApproxSign())
        guard binarizesWeights else {
            return Sequential(named: [("", sign), ("", Conv2D(inputChannels: inputChannels, outputChannels: outputChannels,
                                                              kernelSize: kernelSize, stride: stride, padding: kernelSize / 2))])
        }
        let conv = BinaryConv2D(inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: kernelSize,
                                stride: stride, padding: kernelSize / 2, inputQuantizer: sign,
                                weightQuantizer: SteSign(clipValue: 1))
        conv.weightGradientIncludesScale = false
        return conv
    }

    /// `LearnableBias → PReLU → LearnableBias` (RPReLU) under the given names, run as one fused layer.
    static func rprelu(_ channels: Int, names: (String, String, String)) -> RPReLU {
        RPReLU(channels: channels, names: names)
    }

    // MARK: ReActNet-A

    private static func reactNetA(_ c: ReActNetConfiguration, binarizesWeights: Bool) -> Sequential {
        let stem = Conv2D(inputChannels: 3, outputChannels: c.widths[0], kernelSize: 3, stride: c.stem == .imagenet ? 2 : 1, padding: 1)
        stem.computesInputGradient = false
        var features: [any TensorLayer] = [Sequential(named: [("conv1", stem), ("bn1", BatchNorm2D(channels: c.widths[0]))])]
        for i in 1..<c.widths.count {
            // The authors' rule: a width change is a stride-2 reduction, except at the second layer (32 → 64).
            let stride = c.widths[i] != c.widths[i - 1] && i != 1 ? 2 : 1
            features.append(reactNetABlock(c.widths[i - 1], c.widths[i], stride: stride, binarizesWeights: binarizesWeights))
        }
        return Sequential(named: [("feature", Sequential(features)), ("pool1", GlobalAvgPool()),
                                  ("fc", Linear(inputFeatures: c.widths.last!, outputFeatures: c.classes))])
    }

    /// The authors' `BasicBlock` of ReActNet-A: a binary 3×3 convolution with a shortcut (average-pooled
    /// when strided), RPReLU, then a binary 1×1 convolution with a shortcut — or, when the width
    /// doubles, two 1×1 branches each with the shortcut, concatenated — and RPReLU.
    public static func reactNetABlock(_ inputs: Int, _ outputs: Int, stride: Int, binarizesWeights: Bool = true) -> Sequential {
        precondition(outputs == inputs || outputs == 2 * inputs, "ReActNet-A block: \(inputs) → \(outputs) channels")
        let spatial = Residual(
            body: Sequential(named: [("move11", LearnableBias(channels: inputs)),
                                     ("binary_3x3", binaryConvolution(inputs, inputs, kernelSize: 3, stride: stride, binarizesWeights: binarizesWeights)),
                                     ("bn1", BatchNorm2D(channels: inputs))]),
            shortcut: stride == 2 ? AvgPool2D(kernelSize: 2, stride: 2, ceilMode: true) : nil,
            post: rprelu(inputs, names: ("move12", "prelu1", "move13")), postName: "")
        let pointwise: any TensorLayer
        let shortcut: (any TensorLayer)?
        if outputs == inputs {
            pointwise = Sequential(named: [("binary_pw", binaryConvolution(inputs, inputs, kernelSize: 1, stride: 1, binarizesWeights: binarizesWeights)),
                                           ("bn2", BatchNorm2D(channels: inputs))])
            shortcut = nil
        } else {
            pointwise = Concatenate(named: (1...2).map { k in
                ("", Sequential(named: [("binary_pw_down\(k)", binaryConvolution(inputs, inputs, kernelSize: 1, stride: 1, binarizesWeights: binarizesWeights)),
                                        ("bn2_\(k)", BatchNorm2D(channels: inputs))]) as any TensorLayer)
            })
            shortcut = Concatenate([Identity(), Identity()])
        }
        let channel = Residual(body: Sequential(named: [("move21", LearnableBias(channels: inputs)), ("", pointwise)]),
                               shortcut: shortcut, post: rprelu(outputs, names: ("move22", "prelu2", "move23")),
                               shortcutName: "shortcut", postName: "")
        return Sequential(named: [("", spatial), ("", channel)])
    }

    // MARK: ResNets

    /// Stem, four stages of `blocks` blocks made by `block(inputs, outputs, stride)`, pool and classifier.
    private static func resNetLayout(_ c: ReActNetConfiguration, blocks: [Int], stemActivation: (any TensorLayer)?,
                                     block: (Int, Int, Int) -> any TensorLayer) -> Sequential {
        let imagenet = c.stem == .imagenet
        let conv1 = Conv2D(inputChannels: 3, outputChannels: c.widths[0], kernelSize: imagenet ? 7 : 3, stride: imagenet ? 2 : 1,
                           padding: imagenet ? 3 : 1)
        conv1.computesInputGradient = false
        var layers: [(String, any TensorLayer)] = [("conv1", conv1), ("bn1", BatchNorm2D(channels: c.widths[0]))]
        if let stemActivation { layers.append(("relu", stemActivation)) }
        if imagenet { layers.append(("maxpool", MaxPool2D(kernelSize: 3, stride: 2, padding: 1))) }
        var inputs = c.widths[0]
        for (stage, (count, width)) in zip(blocks, c.widths).enumerated() {
            layers.append(("layer\(stage + 1)", Sequential((0..<count).map { index in
                defer { inputs = width }
                return block(inputs, width, stage > 0 && index == 0 ? 2 : 1)
            })))
        }
        layers += [("avgpool", GlobalAvgPool()), ("fc", Linear(inputFeatures: inputs, outputFeatures: c.classes))]
        return Sequential(named: layers)
    }

    /// ReAct-ResNet: Bi-Real blocks `RPReLU(bn1(binary_conv(RSign(x))) + downsample(x))`; the stem has
    /// no activation (the authors' code).
    private static func reactResNet(_ c: ReActNetConfiguration, blocks: [Int], binarizesWeights: Bool) -> Sequential {
        resNetLayout(c, blocks: blocks, stemActivation: nil) { inputs, outputs, stride in
            Residual(body: Sequential(named: [("move0", LearnableBias(channels: inputs)),
                                              ("binary_conv", binaryConvolution(inputs, outputs, kernelSize: 3, stride: stride,
                                                                                binarizesWeights: binarizesWeights)),
                                              ("bn1", BatchNorm2D(channels: outputs))]),
                     shortcut: stride != 1 || inputs != outputs ? Sequential {
                         AvgPool2D(kernelSize: 2, stride: stride, ceilMode: true)
                         Conv2D(inputChannels: inputs, outputChannels: outputs, kernelSize: 1)
                         BatchNorm2D(channels: outputs)
                     } : nil,
                     post: rprelu(outputs, names: ("move1", "prelu", "move2")), postName: "")
        }
    }

    /// torchvision's ResNet with `BasicBlock`s: `relu(bn2(conv2(relu(bn1(conv1(x))))) + downsample(x))`.
    private static func resNet(_ c: ReActNetConfiguration, blocks: [Int]) -> Sequential {
        resNetLayout(c, blocks: blocks, stemActivation: ReLU()) { inputs, outputs, stride in
            Residual(body: Sequential(named: [
                ("conv1", Conv2D(inputChannels: inputs, outputChannels: outputs, kernelSize: 3, stride: stride, padding: 1)),
                ("bn1", BatchNorm2D(channels: outputs)), ("relu", ReLU()),
                ("conv2", Conv2D(inputChannels: outputs, outputChannels: outputs, kernelSize: 3, padding: 1)),
                ("bn2", BatchNorm2D(channels: outputs)),
            ]), shortcut: stride != 1 || inputs != outputs ? Sequential {
                Conv2D(inputChannels: inputs, outputChannels: outputs, kernelSize: 1, stride: stride)
                BatchNorm2D(channels: outputs)
            } : nil, post: ReLU())
        }
    }
}
