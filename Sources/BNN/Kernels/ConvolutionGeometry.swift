/// The sizes of a 2-D convolution or pooling window over N×H×W×C data.
///
/// Padding is symmetric (PyTorch convention): `padding` zero rows/columns on each side.
public struct ConvolutionGeometry: Sendable, Equatable, Hashable {
    /// Batch size N.
    public var batch: Int
    /// Input height H.
    public var inputHeight: Int
    /// Input width W.
    public var inputWidth: Int
    /// Input channels C.
    public var inputChannels: Int
    /// Output channels.
    public var outputChannels: Int
    /// Kernel height.
    public var kernelHeight: Int
    /// Kernel width.
    public var kernelWidth: Int
    /// Vertical and horizontal stride.
    public var stride: Int
    /// Zero padding on every side.
    public var padding: Int

    /// Creates a geometry; see the properties for the meaning of each size.
    public init(batch: Int, inputHeight: Int, inputWidth: Int, inputChannels: Int, outputChannels: Int,
                kernelHeight: Int, kernelWidth: Int, stride: Int, padding: Int) {
        self.batch = batch
        self.inputHeight = inputHeight
        self.inputWidth = inputWidth
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.stride = stride
        self.padding = padding
    }

    /// The geometry of a square-kernel layer on an N×H×W×C input shape.
    ///
    /// - Precondition: `inputShape` is N×H×W×`inputChannels` (`layer` names the layer in the message).
    public init(layer: String, inputShape shape: [Int], inputChannels: Int, outputChannels: Int, kernelSize: Int,
                stride: Int, padding: Int) {
        precondition(shape.count == 4 && shape[3] == inputChannels,
                     "\(layer): expected N×H×W×\(inputChannels) input, got \(shape)")
        self.init(batch: shape[0], inputHeight: shape[1], inputWidth: shape[2], inputChannels: inputChannels,
                  outputChannels: outputChannels, kernelHeight: kernelSize, kernelWidth: kernelSize, stride: stride,
                  padding: padding)
    }

    /// Output height: `(H + 2·padding − kH) / stride + 1`.
    public var outputHeight: Int { (inputHeight + 2 * padding - kernelHeight) / stride + 1 }
    /// Output width: `(W + 2·padding − kW) / stride + 1`.
    public var outputWidth: Int { (inputWidth + 2 * padding - kernelWidth) / stride + 1 }
    /// The length of one im2col patch and of one output channel's weights: kH·kW·C.
    public var patchSize: Int { kernelHeight * kernelWidth * inputChannels }
    /// Output pixels per image.
    public var outputPixels: Int { outputHeight * outputWidth }
    /// Input elements: N·H·W·C.
    public var inputCount: Int { batch * inputHeight * inputWidth * inputChannels }
    /// Output elements: N·OH·OW·O.
    public var outputCount: Int { batch * outputPixels * outputChannels }
    /// Weight elements: O·kH·kW·C.
    public var weightCount: Int { outputChannels * patchSize }
    /// Multiply-accumulates of one forward pass.
    public var macs: Int { batch * outputPixels * outputChannels * patchSize }
    /// The input shape N×H×W×C.
    public var inputShape: [Int] { [batch, inputHeight, inputWidth, inputChannels] }
    /// The output shape N×OH×OW×O.
    public var outputShape: [Int] { [batch, outputHeight, outputWidth, outputChannels] }
}
