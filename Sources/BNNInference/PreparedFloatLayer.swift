import BNN
import BNNKernels

/// A real-valued convolution (or, with a 1×1 kernel, a matrix product) ready to run: weights packed
/// once into the SGEMM kernels' 16-column panels.
final class PreparedFloatLayer: @unchecked Sendable {
    let outputChannels: Int
    let inputChannels: Int
    let kernelSize: Int
    let stride: Int
    let padding: Int
    /// Bias per output channel, or nil.
    let bias: [Float]?
    private let packed: AlignedBuffer<Float>
    private let kernel = bnn_sgemm_active_kernel()

    /// Packs O×k×k×C weights (O×F for a linear layer: k = 1, C = F).
    init(outputChannels: Int, inputChannels: Int, kernelSize: Int, stride: Int, padding: Int, weight: [Float], bias: [Float]?) {
        self.outputChannels = outputChannels
        self.inputChannels = inputChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        self.bias = bias
        let k = kernelSize * kernelSize * inputChannels
        packed = AlignedBuffer(count: bnn_sgemm_packed_b_count(outputChannels, k))
        let panels = (outputChannels + Int(BNN_SGEMM_NR) - 1) / Int(BNN_SGEMM_NR)
        weight.withUnsafeBufferPointer { w in
            bnn_sgemm_pack_b(1, outputChannels, k, w.baseAddress!, k, 0, panels, packed.base)
        }
    }

    convenience init(_ c: FoldedConvolution) {
        self.init(outputChannels: c.outputChannels, inputChannels: c.inputChannels, kernelSize: c.kernelSize,
                  stride: c.stride, padding: c.padding, weight: c.weight, bias: c.bias)
    }

    convenience init(_ l: FoldedLinear) {
        self.init(outputChannels: l.outputFeatures, inputChannels: l.inputFeatures, kernelSize: 1, stride: 1, padding: 0,
                  weight: l.weight, bias: l.bias)
    }

    /// Output extent for an input extent.
    func outputExtent(_ n: Int) -> Int { (n + 2 * padding - kernelSize) / stride + 1 }

    /// The C shape description for an N×H×W input.
    func shape(batch: Int, height: Int, width: Int) -> bnn_conv_shape {
        bnn_conv_shape(batch: batch, height: height, width: width, channels: inputChannels, out_channels: outputChannels,
                       kernel_h: kernelSize, kernel_w: kernelSize, stride: stride, padding: padding)
    }

    /// Whether the convolution reads a zero-padded copy of its input (every one but a plain 1×1
    /// matrix product).
    var needsPaddedInput: Bool { !(kernelSize == 1 && stride == 1 && padding == 0) }

    /// Floats of the padded input copy.
    func paddedCount(batch: Int, height: Int, width: Int) -> Int {
        var s = shape(batch: batch, height: height, width: width)
        return bnn_sconv_padded_count(&s)
    }

    /// `output = conv(input)` without the bias (N·OH·OW·O floats); `padded` is the scratch of
    /// ``paddedCount(batch:height:width:)`` floats when ``needsPaddedInput``.
    ///
    /// - Precondition: `padded` is set when ``needsPaddedInput`` (programmer error).
    func convolve(_ input: UnsafePointer<Float>, batch: Int, height: Int, width: Int, output: UnsafeMutablePointer<Float>,
                  padded: UnsafeMutablePointer<Float>?) {
        let s = shape(batch: batch, height: height, width: width)
        let m = batch * outputExtent(height) * outputExtent(width)
        let k = kernelSize * kernelSize * inputChannels
        let weights = UnsafePointer(packed.base), kernel = self.kernel, n = outputChannels
        guard needsPaddedInput else {
            multiply(input, rows: m, output: output)
            return
        }
        guard let padded else { preconditionFailure("PreparedFloatLayer.convolve: a padded-input scratch is needed") }
        Parallel.forEachChunk(batch) { images in
            var local = s
            bnn_sconv_pad_input(&local, input, images.lowerBound, images.upperBound, padded)
        }
        Self.forEachRowTile(rows: m, macsPerRow: n * k) { m0, m1 in
            var local = s
            bnn_sconv_forward_direct(kernel, &local, padded, weights, output, m0, m1, 0, n)
        }
    }

    /// `output = input·Wᵀ` for `rows` rows of C values (1×1 convolution or linear layer), bias not added.
    func multiply(_ input: UnsafePointer<Float>, rows: Int, output: UnsafeMutablePointer<Float>) {
        let weights = UnsafePointer(packed.base), kernel = self.kernel
        let (n, k) = (outputChannels, inputChannels)
        Self.forEachRowTile(rows: rows, macsPerRow: n * k) { m0, m1 in
            bnn_sgemm_packed(kernel, 0, k, input, k, weights, output, n, 0, m0, m1, 0, n)
        }
    }

    /// Splits `rows` into multiples of the SGEMM row tile over the threads, at least about 2^20
    /// multiply-adds per piece.
    private static func forEachRowTile(rows: Int, macsPerRow: Int, _ body: (Int, Int) -> Void) {
        let tile = Int(BNN_SGEMM_TILE_M)
        let tiles = (rows + tile - 1) / tile
        Parallel.forEachChunk(tiles, minimumChunk: max(1, (1 << 20) / max(1, tile * macsPerRow))) { range in
            body(range.lowerBound * tile, min(rows, range.upperBound * tile))
        }
    }
}
