import BNN
import BNNKernels

/// A ``PackedBinaryConvolution`` ready to run: signs in the kernels' blocked layout (blocks of 8 output
/// channels, see `bnn_binary_pack_weights`) with the per-tap popcounts of the padding correction.
final class PreparedBinaryLayer: @unchecked Sendable {
    let layer: PackedBinaryConvolution
    private let blocked: AlignedBuffer<UInt64>
    private let tapPopcounts: AlignedBuffer<Int32>
    private let scale: AlignedBuffer<Float>
    private let bias: AlignedBuffer<Float>

    init(_ layer: PackedBinaryConvolution) {
        self.layer = layer
        let (o, taps, words) = (layer.outputChannels, layer.kernelSize * layer.kernelSize, layer.wordsPerTap)
        let padded = (o + 7) / 8 * 8
        let k = taps * words
        let blocked = AlignedBuffer<UInt64>(count: padded * k)
        let tapPopcounts = AlignedBuffer<Int32>(count: padded * taps)
        layer.signs.withUnsafeBufferPointer { signs in
            for channel in 0..<o {
                for t in 0..<taps {
                    var count: Int32 = 0
                    for j in 0..<words {
                        let word = signs[(channel * taps + t) * words + j]
                        blocked.base[((channel / 8) * k + t * words + j) * 8 + channel % 8] = word
                        count += Int32(word.nonzeroBitCount)
                    }
                    tapPopcounts.base[t * padded + channel] = count
                }
            }
        }
        self.blocked = blocked
        self.tapPopcounts = tapPopcounts
        scale = AlignedBuffer(layer.scale)
        bias = AlignedBuffer(layer.bias)
    }

    /// Runs the convolution on packed input (N×(H+2m)×(W+2m)×⌈C/64⌉ words, m = `inputMargin` ≥ padding):
    /// writes the N×OH×OW×O floats `scale·dot + bias (+ residual)`, clamped, and, when `packedOutput`
    /// is set, their signs with a border of `outputMargin` (already zero).
    ///
    /// - Returns: how many packed outputs were exactly 0 (or NaN).
    func run(input: UnsafePointer<UInt64>, inputMargin: Int, batch: Int, height: Int, width: Int,
             residual: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>,
             packedOutput: UnsafeMutablePointer<UInt64>?, outputMargin: Int) -> Int {
        let l = layer
        let (oh, ow) = (l.outputExtent(height), l.outputExtent(width))
        let params = bnn_binary_conv_params(
            batch: Int64(batch), height: Int64(height), width: Int64(width), channels: Int64(l.inputChannels),
            out_channels: Int64(l.outputChannels), kernel_h: Int64(l.kernelSize), kernel_w: Int64(l.kernelSize),
            stride: Int64(l.stride), padding: Int64(l.padding), out_h: Int64(oh), out_w: Int64(ow),
            input: input, input_margin: Int64(inputMargin), weights: blocked.base, tap_popcounts: tapPopcounts.base,
            dots: nil, scale: scale.base, bias: bias.base, residual: residual,
            clamp: l.clamp == nil ? 0 : 1, clamp_lo: l.clamp?.lowerBound ?? 0, clamp_hi: l.clamp?.upperBound ?? 0,
            output: output, packed_output: packedOutput, packed_output_margin: Int64(outputMargin))
        let rowMACs = max(1, ow * l.outputChannels * l.kernelSize * l.kernelSize * l.inputChannels)
        let zeros = ParallelCounter()
        Parallel.forEachChunk(batch * oh, minimumChunk: max(1, (1 << 24) / rowMACs)) { rows in
            var local = params
            zeros.add(Int(bnn_binary_conv_rows(&local, Int64(rows.lowerBound), Int64(rows.upperBound))))
        }
        return zeros.value
    }
}
