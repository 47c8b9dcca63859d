import BNNKernels

/// Float 2-D convolution on N×H×W×C data with O×kH×kW×C weights on top of the packed SGEMM
/// kernels (`bnn_sgemm.h`): the forward pass and the two backward passes used in training.
///
/// - Forward: an implicit GEMM (output pixels × O × kH·kW·C). The weights are packed once per
///   call (block by block inside the kernel when there are few output pixels); patches are read
///   straight from a zero-padded copy of the input, each kernel row (kW·C contiguous floats) a K
///   block of its own, or, when kW·C < 64 such as the 3-channel stem, the whole patch through a
///   table of tap offsets. A 1×1, stride-1, unpadded convolution is a plain GEMM.
/// - Input gradient: for stride 1 (square kernel, padding < kernel size) a forward convolution
///   of the output gradient with the flipped, transposed weights; otherwise a GEMM per image into
///   patch gradients and a col2im split over channels.
/// - Weight gradient: a GEMM over all pixels of the batch (the output gradient read as a
///   transposed A, patches gathered into B panels right before the row tiles use them), split
///   across threads over the pixels with one partial gradient per thread when O·kH·kW·C is small
///   beside the pixel count (the wide early layers), else over the kH·kW·C columns.
///
/// Every entry point takes an optional micro-kernel: nil uses ``GEMM/Kernel/active``, and a
/// ``ComputePrecision``: ``ComputePrecision/bf16`` runs the same passes with bfloat16 operands on
/// ``BFloat16GEMM/Kernel/active`` (the micro-kernel argument then does not apply). The geometry
/// must describe a non-empty output (kernel no larger than the padded input, stride ≥ 1): callers
/// validate user-supplied shapes, a violation here is a programmer error (precondition).
public enum Convolution {
    /// `output = conv(input, weight)`; `input` holds N·H·W·C values, `weight` O·kH·kW·C and
    /// `output` N·OH·OW·O values (overwritten).
    public static func forward(input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                               output: UnsafeMutablePointer<Float>, geometry g: ConvolutionGeometry,
                               kernel: GEMM.Kernel? = nil, precision: ComputePrecision = .fp32) {
        checkGeometry(g)
        if precision == .bf16 { return forwardBF16(input: input, weight: weight, output: output, geometry: g) }
        let m = g.batch * g.outputPixels
        guard m > 0, g.outputChannels > 0 else { return }
        if isPointwise(g) {
            GEMM.multiplyNT(m: m, n: g.outputChannels, k: g.inputChannels,
                            a: input, lda: g.inputChannels, b: weight, ldb: g.inputChannels,
                            c: output, ldc: g.outputChannels, accumulate: false, kernel: kernel)
            return
        }
        var shape = cShape(g)
        if withUnsafePointer(to: &shape, { bnn_sconv_prefers_unpacked_weight($0) != 0 }) {
            // Few output pixels: the kernel packs each weight block right before using it.
            let cKernel = (kernel ?? .active).cValue
            withUnsafePointer(to: &shape) { s in
                withPaddedInput(input, shape: s, geometry: g) { padded in
                    GEMM.forEachTile(m: m, n: g.outputChannels, macs: g.macs) { m0, m1, n0, n1 in
                        bnn_sconv_forward_direct_small(cKernel, s, padded, weight, output, m0, m1, n0, n1)
                    }
                }
            }
            return
        }
        let packed = GEMM.PackedPanels(transposed: true, n: g.outputChannels, k: g.patchSize, b: weight,
                                       ldb: g.patchSize)
        defer { packed.deallocate() }
        forward(input: input, packedWeight: packed, output: output, geometry: g, kernel: kernel ?? .active)
    }

    /// The forward pass of a convolution that is not pointwise, with the O×(kH·kW·C) weight already
    /// packed (as op(B) of K×N = (kH·kW·C)×O).
    static func forward(input: UnsafePointer<Float>, packedWeight packed: GEMM.PackedPanels,
                        output: UnsafeMutablePointer<Float>, geometry g: ConvolutionGeometry, kernel: GEMM.Kernel) {
        let m = g.batch * g.outputPixels
        let cKernel = kernel.cValue
        let weights = UnsafePointer(packed.base)
        var shape = cShape(g)
        withUnsafePointer(to: &shape) { s in
            withPaddedInput(input, shape: s, geometry: g) { padded in
                GEMM.forEachTile(m: m, n: g.outputChannels, macs: g.macs) { m0, m1, n0, n1 in
                    bnn_sconv_forward_direct(cKernel, s, padded, weights, output, m0, m1, n0, n1)
                }
            }
        }
    }

    /// `inputGradient = ∂loss/∂input` (N·H·W·C values, overwritten) from `outputGradient`
    /// (N·OH·OW·O) and `weight` (O·kH·kW·C).
    public static func backwardInput(outputGradient: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                     inputGradient: UnsafeMutablePointer<Float>, geometry g: ConvolutionGeometry,
                                     kernel: GEMM.Kernel? = nil, precision: ComputePrecision = .fp32) {
        checkGeometry(g)
        guard g.inputCount > 0 else { return }
        if precision == .bf16 {
            return backwardInputBF16(outputGradient: outputGradient, weight: weight, inputGradient: inputGradient,
                                     geometry: g)
        }
        let pixels = g.outputPixels
        if isPointwise(g) {
            GEMM.multiplyNN(m: g.batch * pixels, n: g.inputChannels, k: g.outputChannels,
                            a: outputGradient, lda: g.outputChannels, b: weight, ldb: g.inputChannels,
                            c: inputGradient, ldc: g.inputChannels, accumulate: false, kernel: kernel)
            return
        }
        if let transposed = strideOneTransposedGeometry(g) {
            let flipped = flippedWeight(weight, geometry: g)
            defer { flipped.deallocate() }
            forward(input: outputGradient, packedWeight: flipped, output: inputGradient, geometry: transposed,
                    kernel: kernel ?? .active)
            return
        }
        let gemmKernel = kernel ?? .active
        let packed = GEMM.PackedPanels(transposed: false, n: g.patchSize, k: g.outputChannels, b: weight,
                                       ldb: g.patchSize)
        defer { packed.deallocate() }
        accumulateColumns(outputGradient: outputGradient, inputGradient: inputGradient, geometry: g) { image, columns in
            GEMM.multiply(transposeA: false, m: pixels, k: g.outputChannels,
                          a: outputGradient + image * pixels * g.outputChannels, lda: g.outputChannels,
                          packedB: packed, c: columns, ldc: g.patchSize, accumulate: false, kernel: gemmKernel)
        }
    }

    /// For stride 1 (square kernel, padding < kernel size) the input gradient is the convolution of
    /// the output gradient, padded by k − 1 − p, with the weights flipped in space and transposed to
    /// C×kH×kW×O: the geometry of that convolution, or nil for other strides.
    static func strideOneTransposedGeometry(_ g: ConvolutionGeometry) -> ConvolutionGeometry? {
        guard g.stride == 1 && g.kernelHeight == g.kernelWidth && g.padding < g.kernelHeight else { return nil }
        return ConvolutionGeometry(
            batch: g.batch, inputHeight: g.outputHeight, inputWidth: g.outputWidth,
            inputChannels: g.outputChannels, outputChannels: g.inputChannels,
            kernelHeight: g.kernelHeight, kernelWidth: g.kernelWidth, stride: 1,
            padding: g.kernelHeight - 1 - g.padding)
    }

    /// The weight flipped in space and transposed to C×kH×kW×O, packed as the B operand of the
    /// stride-1 input gradient.
    static func flippedWeight(_ weight: UnsafePointer<Float>, geometry g: ConvolutionGeometry) -> GEMM.PackedPanels {
        var shape = cShape(g)
        return withUnsafePointer(to: &shape) { s in
            GEMM.PackedPanels(n: g.inputChannels, k: g.weightCount / max(1, g.inputChannels)) { target, range in
                bnn_sconv_pack_flipped_weight(s, weight, range.lowerBound, range.upperBound, target)
            }
        }
    }

    /// The input gradient of other strides: zeroes it, then per image lets `product(image, columns)`
    /// write the OH·OW × kH·kW·C patch gradients into `columns` and adds them in (col2im, split over
    /// channels).
    static func accumulateColumns(outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>,
                                  geometry g: ConvolutionGeometry,
                                  product: (Int, UnsafeMutablePointer<Float>) -> Void) {
        inputGradient.update(repeating: 0, count: g.inputCount)
        let pixels = g.outputPixels
        let columns = UnsafeMutablePointer<Float>.allocate(capacity: max(1, pixels * g.patchSize))
        defer { columns.deallocate() }
        let minimumChannels = max(1, 4096 / max(1, pixels * g.kernelHeight * g.kernelWidth))
        var shape = cShape(g)
        withUnsafePointer(to: &shape) { s in
            for image in 0..<g.batch {
                product(image, columns)
                Parallel.forEachChunk(g.inputChannels, minimumChunk: minimumChannels) { channels in
                    bnn_sconv_col2im(s, columns, image, inputGradient, channels.lowerBound, channels.upperBound)
                }
            }
        }
    }

    /// `weightGradient += ∂loss/∂weight` (O·kH·kW·C values) from `input` (N·H·W·C) and
    /// `outputGradient` (N·OH·OW·O).
    public static func backwardWeight(input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
                                      weightGradient: UnsafeMutablePointer<Float>, geometry g: ConvolutionGeometry,
                                      kernel: GEMM.Kernel? = nil, precision: ComputePrecision = .fp32) {
        checkGeometry(g)
        guard g.weightCount > 0 else { return }
        if precision == .bf16 {
            return backwardWeightBF16(input: input, outputGradient: outputGradient, weightGradient: weightGradient,
                                      geometry: g)
        }
        if isPointwise(g) {
            GEMM.multiplyTN(m: g.outputChannels, n: g.inputChannels, k: g.batch * g.outputPixels,
                            a: outputGradient, lda: g.outputChannels, b: input, ldb: g.inputChannels,
                            c: weightGradient, ldc: g.inputChannels, accumulate: true, kernel: kernel)
            return
        }
        let cKernel = (kernel ?? .active).cValue
        var shape = cShape(g)
        let readsPaddedInput = g.inputChannels <= paddedWeightGradientChannelLimit
            && bnn_sconv_padded_count(&shape) <= Int(Int32.max)
        withUnsafePointer(to: &shape) { s in
            guard readsPaddedInput else {
                forEachWeightGradientPiece(geometry: g, weightGradient: weightGradient) { output, add, pixels, n0, n1 in
                    bnn_sconv_backward_weight(cKernel, s, input, outputGradient, output, add ? 1 : 0,
                                              pixels.lowerBound, pixels.upperBound, n0, n1)
                }
                return
            }
            withPaddedInput(input, shape: s, geometry: g) { padded in
                forEachWeightGradientPiece(geometry: g, weightGradient: weightGradient) { output, add, pixels, n0, n1 in
                    bnn_sconv_backward_weight_padded(cKernel, s, padded, outputGradient, output, add ? 1 : 0,
                                                     pixels.lowerBound, pixels.upperBound, n0, n1)
                }
            }
        }
    }

    /// Runs a weight gradient (accumulated into `weightGradient`, O×kH·kW·C) on all threads: split over
    /// its K steps (the output pixels, or `steps` of another kind such as the pixel pairs of the
    /// bfloat16 pass) into private partial sums when the gradient is small (``GEMM`` K split), else
    /// over its kH·kW·C columns. `sum(output, accumulate, steps, n0, n1)` adds the products of the K
    /// steps `steps` into columns `n0 ..< n1` of `output` (rows of kH·kW·C), or stores them there when
    /// `accumulate` is false.
    static func forEachWeightGradientPiece(
        geometry g: ConvolutionGeometry, steps: Int? = nil, weightGradient: UnsafeMutablePointer<Float>,
        _ sum: (UnsafeMutablePointer<Float>, Bool, Range<Int>, Int, Int) -> Void
    ) {
        let pixels = steps ?? g.batch * g.outputPixels, patch = g.patchSize
        let splitK = GEMM.forEachKPiece(m: g.outputChannels, n: patch, k: pixels, c: weightGradient, ldc: patch,
                                        accumulate: true) { range, output, _, add in
            sum(output, add, range, 0, patch)
        }
        if splitK { return }
        forEachWeightColumnRange(geometry: g) { _, n0, n1 in sum(weightGradient, true, 0..<pixels, n0, n1) }
    }

    /// The most input channels for which the weight gradient reads its patches straight from the padded
    /// input (`bnn_sconv_backward_weight_padded`): up to 1 KiB per pixel. Wider pixels put the taps of
    /// successive pixels on too few L1 sets, and gathering them is cheap next to their many outputs.
    static let paddedWeightGradientChannelLimit = 256

    /// Splits the kH·kW·C columns of the weight gradient over threads (no reduction is needed, each
    /// thread packs only its patches): `body(shape, n0, n1)` per column range, `n0` a multiple of 32.
    static func forEachWeightColumnRange(geometry g: ConvolutionGeometry,
                                         _ body: (UnsafePointer<bnn_conv_shape>, Int, Int) -> Void) {
        var shape = cShape(g)
        let patch = g.patchSize
        withUnsafePointer(to: &shape) { s in
            let nr = Int(BNN_SGEMM_TILE_N)
            GEMM.forEachPiece(of: (patch + nr - 1) / nr, macs: g.macs) { range in
                body(s, range.lowerBound * nr, min(patch, range.upperBound * nr))
            }
        }
    }

    /// Traps on a geometry without output pixels or with negative sizes (programmer error).
    static func checkGeometry(_ g: ConvolutionGeometry) {
        precondition(g.batch >= 0 && g.inputChannels >= 0 && g.outputChannels >= 0 && g.padding >= 0,
                      "convolution sizes must be non-negative: \(g)")
        precondition(g.stride >= 1 && g.kernelHeight >= 1 && g.kernelWidth >= 1,
                      "convolution stride and kernel must be at least 1: \(g)")
        precondition(g.inputHeight + 2 * g.padding >= g.kernelHeight && g.inputWidth + 2 * g.padding >= g.kernelWidth,
                      "convolution kernel larger than the padded input: \(g)")
    }

    /// Whether the convolution is a plain GEMM over pixels (1×1, stride 1, no padding).
    static func isPointwise(_ g: ConvolutionGeometry) -> Bool {
        g.kernelHeight == 1 && g.kernelWidth == 1 && g.stride == 1 && g.padding == 0
    }

    /// The C view of a geometry.
    static func cShape(_ g: ConvolutionGeometry) -> bnn_conv_shape {
        bnn_conv_shape(batch: g.batch, height: g.inputHeight, width: g.inputWidth, channels: g.inputChannels,
                       out_channels: g.outputChannels, kernel_h: g.kernelHeight, kernel_w: g.kernelWidth,
                       stride: g.stride, padding: g.padding)
    }

    /// Calls `body` with the input zero-padded by `g.padding` on every side (the input itself when
    /// there is no padding); the copy is made in parallel over images, into a block of
    /// ``TensorAllocator/shared`` (reused from step to step, not mapped afresh).
    static func withPaddedInput(_ input: UnsafePointer<Float>, shape s: UnsafePointer<bnn_conv_shape>,
                                geometry g: ConvolutionGeometry, _ body: (UnsafePointer<Float>) -> Void) {
        if g.padding == 0 {
            body(input)
            return
        }
        let count = bnn_sconv_padded_count(s)
        let (block, reservedBytes) = TensorAllocator.shared.allocate(byteCount: count * MemoryLayout<Float>.stride)
        defer { TensorAllocator.shared.deallocate(block, reservedBytes: reservedBytes) }
        let padded = block.bindMemory(to: Float.self, capacity: count)
        Parallel.forEachChunk(g.batch, minimumChunk: max(1, 65_536 / max(1, count / g.batch))) { images in
            bnn_sconv_pad_input(s, input, images.lowerBound, images.upperBound, padded)
        }
        body(padded)
    }
}
