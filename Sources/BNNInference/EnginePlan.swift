import BNN

/// The feature-map sizes of every step of a ``PackedModel`` for its input size (per image).
struct EnginePlan {
    /// Sizes around one block.
    struct Block {
        let inputHeight: Int, inputWidth: Int, outputHeight: Int, outputWidth: Int
        /// The zero border of the block's packed input (its binary convolution's padding).
        let margin: Int
        /// Words of the packed input of one image, with the border.
        let packedInputWordsPerImage: Int
    }

    let inputHeight: Int, inputWidth: Int
    /// Stem convolution output extent.
    let stemHeight: Int, stemWidth: Int
    /// Extent after the stem's max-pool (the stem output extent without one).
    let pooledHeight: Int, pooledWidth: Int
    /// Floats of the stem convolution output of one image.
    let stemOutputCount: Int
    /// Floats of the zero-padded stem input of one image, when the stem convolution reads one.
    let stemPaddedCount: Int?
    let blocks: [Block]
    /// The largest float activation of one image over the network.
    let maximumActivationCount: Int
    /// The largest average-pooled shortcut input of one image.
    let maximumPooledCount: Int
    /// Features entering the classifier.
    let featureCount: Int

    init(model: PackedModel, stem: PreparedFloatConvolution) {
        inputHeight = model.inputHeight
        inputWidth = model.inputWidth
        stemHeight = stem.outputExtent(inputHeight)
        stemWidth = stem.outputExtent(inputWidth)
        if model.hasMaxPool {
            pooledHeight = (stemHeight + 2 - 3) / 2 + 1
            pooledWidth = (stemWidth + 2 - 3) / 2 + 1
        } else {
            (pooledHeight, pooledWidth) = (stemHeight, stemWidth)
        }
        let c0 = stem.outputChannels
        stemOutputCount = stemHeight * stemWidth * c0
        stemPaddedCount = stem.needsPaddedInput
            ? stem.paddedCount(batch: 1, height: inputHeight, width: inputWidth) : nil
        var (h, w) = (pooledHeight, pooledWidth)
        var largest = pooledHeight * pooledWidth * c0, largestPooled = 1
        var blocks: [Block] = []
        for block in model.blocks {
            let b = block.binary
            let (oh, ow) = (b.outputExtent(h), b.outputExtent(w))
            blocks.append(Block(inputHeight: h, inputWidth: w, outputHeight: oh, outputWidth: ow, margin: b.padding,
                                packedInputWordsPerImage: (h + 2 * b.padding) * (w + 2 * b.padding) * b.wordsPerTap))
            largest = max(largest, oh * ow * b.outputChannels)
            if block.downsample != nil { largestPooled = max(largestPooled, oh * ow * b.inputChannels) }
            (h, w) = (oh, ow)
        }
        self.blocks = blocks
        maximumActivationCount = largest
        maximumPooledCount = largestPooled
        featureCount = model.classifier.inputFeatures
    }
}
