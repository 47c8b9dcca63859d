import BNN

/// One distinct convolution shape of Bi-Real Net 34 at 224×224 input (batch 1; the benchmark
/// scales the batch).
struct ConvolutionShape {
    /// A short name, e.g. `3x3/1 56²×64→64`.
    var name: String
    /// Whether Bi-Real Net computes this layer in binary (the 3×3 convolutions); the stem and the
    /// 1×1 downsample convolutions are real-valued there and are benchmarked in binary for comparison.
    var binaryInModel: Bool
    /// How many times the layer occurs in Bi-Real Net 34.
    var occurrences: Int
    /// The geometry at batch 1.
    var geometry: ConvolutionGeometry

    init(_ name: String, binary: Bool, occurrences: Int, size: Int, input: Int, output: Int, kernel: Int,
         stride: Int, padding: Int) {
        self.name = name
        binaryInModel = binary
        self.occurrences = occurrences
        geometry = ConvolutionGeometry(batch: 1, inputHeight: size, inputWidth: size, inputChannels: input,
                                       outputChannels: output, kernelHeight: kernel, kernelWidth: kernel,
                                       stride: stride, padding: padding)
    }

    /// Every distinct convolution shape of Bi-Real Net 34 (blocks per stage 6, 8, 12, 6).
    static let biRealNet34: [ConvolutionShape] = [
        ConvolutionShape("stem 7x7/2 224²×3→64", binary: false, occurrences: 1, size: 224, input: 3, output: 64,
                         kernel: 7, stride: 2, padding: 3),
        ConvolutionShape("3x3/1 56²×64→64", binary: true, occurrences: 6, size: 56, input: 64, output: 64,
                         kernel: 3, stride: 1, padding: 1),
        ConvolutionShape("3x3/2 56²×64→128", binary: true, occurrences: 1, size: 56, input: 64, output: 128,
                         kernel: 3, stride: 2, padding: 1),
        ConvolutionShape("1x1 28²×64→128", binary: false, occurrences: 1, size: 28, input: 64, output: 128,
                         kernel: 1, stride: 1, padding: 0),
        ConvolutionShape("3x3/1 28²×128→128", binary: true, occurrences: 7, size: 28, input: 128, output: 128,
                         kernel: 3, stride: 1, padding: 1),
        ConvolutionShape("3x3/2 28²×128→256", binary: true, occurrences: 1, size: 28, input: 128, output: 256,
                         kernel: 3, stride: 2, padding: 1),
        ConvolutionShape("1x1 14²×128→256", binary: false, occurrences: 1, size: 14, input: 128, output: 256,
                         kernel: 1, stride: 1, padding: 0),
        ConvolutionShape("3x3/1 14²×256→256", binary: true, occurrences: 11, size: 14, input: 256, output: 256,
                         kernel: 3, stride: 1, padding: 1),
        ConvolutionShape("3x3/2 14²×256→512", binary: true, occurrences: 1, size: 14, input: 256, output: 512,
                         kernel: 3, stride: 2, padding: 1),
        ConvolutionShape("1x1 7²×256→512", binary: false, occurrences: 1, size: 7, input: 256, output: 512,
                         kernel: 1, stride: 1, padding: 0),
        ConvolutionShape("3x3/1 7²×512→512", binary: true, occurrences: 5, size: 7, input: 512, output: 512,
                         kernel: 3, stride: 1, padding: 1),
    ]
}
