import BiRealNet
import BNN

/// A trained Bi-Real Net frozen for inference: binary weights packed to one bit with α and the
/// BatchNorms folded into per-channel multiply-adds, real-valued stem, shortcuts and classifier with
/// their BatchNorms folded in, the class names and the input size. ``InferenceEngine`` runs it.
///
/// Create one with ``BiRealNetExport/export(_:classNames:inputHeight:inputWidth:)`` and save it with
/// ``write(to:)``; read it back with ``init(contentsOf:)``.
///
/// ## File format (version 1)
///
/// A safetensors file (8-byte little-endian header length, JSON header, little-endian data; see
/// `SafeTensorsFile`). Header metadata (all strings):
///
/// | key | value |
/// |---|---|
/// | `format` | `bnn-packed-birealnet` |
/// | `format_version` | `1` |
/// | `blocks_per_stage`, `widths` | four comma-separated integers each, e.g. `6,8,12,6` and `64,128,256,512` |
/// | `classes` | the number of classes K |
/// | `stem` | `imagenet` (conv 7×7/2 → clamp → max-pool 3×3/2) or `small` (conv 3×3/1 → clamp) |
/// | `variant` | `reference` (clamp to [−1, 1] after every residual add) or `paper` (no clamp) |
/// | `input_height`, `input_width` | the image size the engine accepts, e.g. `224` |
/// | `class_names` | a JSON array of K strings |
/// | `checksum` | `fnv1a64:` and 16 hex digits: FNV-1a 64 over every tensor, in name order, of its name bytes followed by its data bytes |
///
/// Tensors (F32 unless said otherwise; C = input channels, O = output channels, channels last):
///
/// | name | shape | content |
/// |---|---|---|
/// | `stem.weight` | O×k×k×3 | stem convolution with its BatchNorm scale folded in |
/// | `stem.bias` | O | the stem BatchNorm shift |
/// | `layerS.B.binary_conv.signs` | U8, O×3×3×(8·⌈C/64⌉) | the bytes of O×3×3×⌈C/64⌉ little-endian 64-bit words: bit c%64 of word c/64 set = weight sign −1 |
/// | `layerS.B.binary_conv.scale` | O | α·γ/√(σ²+ε) |
/// | `layerS.B.binary_conv.bias` | O | β − μ·γ/√(σ²+ε), plus the shortcut BatchNorm's shift in a downsampling block |
/// | `layerS.B.downsample.weight` | O×C | the shortcut's 1×1 convolution with its BatchNorm scale folded in (downsampling blocks only) |
/// | `fc.weight` | K×F | the classifier with the head BatchNorm (reference variant) folded in |
/// | `fc.bias` | K | the classifier bias with the head BatchNorm shift folded in |
///
/// The stride of block B of stage S is 2 for B = 0 and S > 1, else 1; a block has a downsample when
/// its stride is not 1 or its width changes (its shortcut is then an average pool of that stride in
/// ceil mode, then the 1×1 convolution).
///
/// ## Numerical contract
/// The binary dot products are exact integers; the result differs from the float model's
/// evaluation-mode logits only by the rounding of the folded multiply-adds (about 1e-6 relative),
/// except where an activation entering a binary convolution is exactly 0: the float model's
/// sign(0) = 0 has no 1-bit code, the packed path uses +1 there (``InferenceProfile`` counts such
/// values), and where a latent binary weight is exactly 0 (packed as +1; the exporter counts them in
/// ``BiRealNetExport/Result/zeroWeights``: trained weights practically never are, but PyTorch's
/// `normal_` initialisation gives about one exact zero per Bi-Real Net 34). Zero padding is exact.
/// Measured on Bi-Real Net 34 at 224×224 with random weights and BatchNorm statistics (no zero
/// weight), 8 images: largest logit difference 6.8e-7 relative to the float model, 4.9e-7 to PyTorch.
public struct PackedModel: Sendable, Equatable {
    /// The value of the `format` metadata.
    public static let formatName = "bnn-packed-birealnet"
    /// The format version this library writes and reads.
    public static let formatVersion = 1

    /// The architecture (stage sizes, widths, classes, stem, variant).
    public let configuration: BiRealNetConfiguration
    /// Input image height in pixels.
    public let inputHeight: Int
    /// Input image width in pixels.
    public let inputWidth: Int
    /// One name per class, in label order.
    public let classNames: [String]
    /// The stem convolution (its clamp to [−1, 1] and, for the ImageNet stem, the 3×3/2 max-pool follow).
    public let stem: FoldedConvolution
    /// The residual blocks in order.
    public let blocks: [PackedBlock]
    /// The classifier (after global average pooling).
    public let classifier: FoldedLinear

    /// Assembles a model.
    ///
    /// - Precondition: the parts fit the configuration (programmer error; ``init(contentsOf:)`` and
    ///   the exporter check this).
    public init(configuration: BiRealNetConfiguration, inputHeight: Int, inputWidth: Int, classNames: [String],
                stem: FoldedConvolution, blocks: [PackedBlock], classifier: FoldedLinear) {
        precondition(inputHeight > 0 && inputWidth > 0, "PackedModel: input size must be positive")
        precondition(classNames.count == configuration.classes && classifier.outputFeatures == configuration.classes,
                     "PackedModel: \(configuration.classes) classes expected")
        precondition(blocks.count == configuration.blocksPerStage.reduce(0, +), "PackedModel: block count")
        self.configuration = configuration
        self.inputHeight = inputHeight
        self.inputWidth = inputWidth
        self.classNames = classNames
        self.stem = stem
        self.blocks = blocks
        self.classifier = classifier
    }

    /// Whether the stem ends with the 3×3 stride-2 max-pool (ImageNet stem).
    public var hasMaxPool: Bool { configuration.stem == .imagenet }

    /// The stride of every block and whether it has a downsample, with its `layerS.B` name, in order.
    static func blockLayout(_ c: BiRealNetConfiguration) -> [(name: String, input: Int, output: Int, stride: Int)] {
        var result: [(name: String, input: Int, output: Int, stride: Int)] = []
        var channels = c.widths[0]
        for (stage, (count, width)) in zip(c.blocksPerStage, c.widths).enumerated() {
            for block in 0..<count {
                result.append(("layer\(stage + 1).\(block)", channels, width, stage > 0 && block == 0 ? 2 : 1))
                channels = width
            }
        }
        return result
    }

    /// Bytes of all weights as stored (packed signs, floats).
    public var weightByteCount: Int {
        (stem.weight.count + (stem.bias?.count ?? 0)) * 4
            + blocks.reduce(0) { total, block in
                total + block.binary.packedByteCount + 8 * block.binary.outputChannels
                    + (block.downsample?.weight.count ?? 0) * 4
            }
            + (classifier.weight.count + classifier.bias.count) * 4
    }
}
