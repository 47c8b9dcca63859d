import BNNKernels

/// The bfloat16 twins of the three convolution passes (``ComputePrecision/bf16``): the same
/// algorithms as the single-precision ones, on the kernels of `bnn_bgemm.h` — operands rounded to
/// bfloat16 block by block, sums in single precision.
extension Convolution {
    /// Forward pass with bfloat16 operands (see ``forward(input:weight:output:geometry:kernel:precision:)``).
    static func forwardBF16(input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                            output: UnsafeMutablePointer<Float>, geometry g: ConvolutionGeometry) {
        let m = g.batch * g.outputPixels
        guard m > 0, g.outputChannels > 0 else { return }
        if isPointwise(g) {
            BFloat16GEMM.multiply(transposeA: false, transposeB: true, m: m, n: g.outputChannels, k: g.inputChannels,
                                  a: input, lda: g.inputChannels, b: weight, ldb: g.inputChannels, c: output,
                                  ldc: g.outputChannels, accumulate: false)
            return
        }
        let packed = BFloat16GEMM.PackedPairPanels(directConvolutionWeight: weight, geometry: g)
        defer { packed.deallocate() }
        forwardBF16(input: input, packedWeight: packed, output: output, geometry: g)
    }

    /// The bfloat16 forward pass of a convolution that is not pointwise, with the weight already
    /// rounded and packed as the operand of the direct pass (`bnn_bconv_pack_direct_weight`). The input is padded and rounded to
    /// bfloat16 in one pass per call, in parallel over images, into a block of
    /// ``TensorAllocator/shared``, before the output is split over threads: every input value once,
    /// although a kH×kW kernel reads it kH·kW times and every column piece reads every row.
    static func forwardBF16(input: UnsafePointer<Float>, packedWeight packed: BFloat16GEMM.PackedPairPanels,
                            output: UnsafeMutablePointer<Float>, geometry g: ConvolutionGeometry) {
        let m = g.batch * g.outputPixels
        let cKernel = BFloat16GEMM.Kernel.active.cValue
        let weights = UnsafePointer(packed.base)
        var shape = cShape(g)
        let count = bnn_bconv_rounded_count(&shape)
        let (block, reservedBytes) = TensorAllocator.shared.allocate(byteCount: count * MemoryLayout<UInt16>.stride)
        defer { TensorAllocator.shared.deallocate(block, reservedBytes: reservedBytes) }
        let rounded = block.bindMemory(to: UInt16.self, capacity: count)
        withUnsafePointer(to: &shape) { s in
            Parallel.forEachChunk(g.batch, minimumChunk: max(1, 65_536 / max(1, count / max(1, g.batch)))) { images in
                bnn_bconv_pad_round_input(s, input, images.lowerBound, images.upperBound, rounded)
            }
            GEMM.forEachTile(m: m, n: g.outputChannels, macs: g.macs) { m0, m1, n0, n1 in
                bnn_bconv_forward_direct(cKernel, s, rounded, weights, output, m0, m1, n0, n1)
            }
        }
    }

    /// Input gradient with bfloat16 operands (see ``backwardInput(outputGradient:weight:inputGradient:geometry:kernel:precision:)``).
    static func backwardInputBF16(outputGradient: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                  inputGradient: UnsafeMutablePointer<Float>, geometry g: ConvolutionGeometry) {
        let pixels = g.outputPixels
        if isPointwise(g) {
            BFloat16GEMM.multiply(transposeA: false, transposeB: false, m: g.batch * pixels, n: g.inputChannels,
                                  k: g.outputChannels, a: outputGradient, lda: g.outputChannels, b: weight,
                                  ldb: g.inputChannels, c: inputGradient, ldc: g.inputChannels, accumulate: false)
            return
        }
        // The flipped weight is packed as a plain K×N operand: the direct pass of the transposed
        // convolution reads it unless its short kernel rows have zero weight steps (odd kW·O).
        if let transposed = strideOneTransposedGeometry(g), directPatchSize(transposed) == transposed.patchSize {
            let flipped = flippedWeight(weight, geometry: g)
            let rounded = BFloat16GEMM.PackedPairPanels(rounding: flipped)
            flipped.deallocate()
            defer { rounded.deallocate() }
            forwardBF16(input: outputGradient, packedWeight: rounded, output: inputGradient, geometry: transposed)
            return
        }
        let packed = BFloat16GEMM.PackedPairPanels(transposed: false, n: g.patchSize, k: g.outputChannels, b: weight,
                                                   ldb: g.patchSize)
        defer { packed.deallocate() }
        let kernel = BFloat16GEMM.Kernel.active
        accumulateColumns(outputGradient: outputGradient, inputGradient: inputGradient, geometry: g) { image, columns in
            BFloat16GEMM.multiply(transposeA: false, m: pixels, k: g.outputChannels,
                                  a: outputGradient + image * pixels * g.outputChannels, lda: g.outputChannels,
                                  packedB: packed, c: columns, ldc: g.patchSize, accumulate: false, kernel: kernel)
        }
    }

    /// Weight gradient with bfloat16 operands (see ``backwardWeight(input:outputGradient:weightGradient:geometry:kernel:precision:)``).
    /// Up to ``paddedWeightGradientChannelLimit`` input channels the patches are read in place from a
    /// paired copy of the padded input (`bnn_bconv_pair_input`: each 32-bit word holds a tap of two
    /// horizontally adjacent output pixels, the K-step pair of `vdpbf16ps`), made from the input in
    /// one pass per call, in parallel over images, in a block of ``TensorAllocator/shared``; wider
    /// inputs gather their patch panels.
    static func backwardWeightBF16(input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
                                   weightGradient: UnsafeMutablePointer<Float>, geometry g: ConvolutionGeometry) {
        if isPointwise(g) {
            BFloat16GEMM.multiply(transposeA: true, transposeB: false, m: g.outputChannels, n: g.inputChannels,
                                  k: g.batch * g.outputPixels, a: outputGradient, lda: g.outputChannels, b: input,
                                  ldb: g.inputChannels, c: weightGradient, ldc: g.inputChannels, accumulate: true)
            return
        }
        guard pairsWeightGradientInput(g) else {
            let cKernel = BFloat16GEMM.Kernel.active.cValue
            forEachWeightColumnRange(geometry: g) { s, n0, n1 in
                bnn_bconv_backward_weight(cKernel, s, input, outputGradient, weightGradient, 1, n0, n1)
            }
            return
        }
        pairedWeightGradient(geometry: g, outputGradient: outputGradient, weightGradient: weightGradient) { s, images, pairs in
            bnn_bconv_pair_input(s, input, images.lowerBound, images.upperBound, pairs)
        }
    }

    /// K of the weight operand of the direct bfloat16 pass of `g` (`bnn_bconv_direct_patch_size`).
    static func directPatchSize(_ g: ConvolutionGeometry) -> Int {
        var shape = cShape(g)
        return bnn_bconv_direct_patch_size(&shape)
    }

    /// Whether the weight gradient of `g` in bfloat16 reads a paired copy of its padded input
    /// (``paddedWeightGradientChannelLimit`` channels or fewer, offsets within `Int32`), the path
    /// that ``backwardWeightBF16(signs:outputGradient:weightGradient:geometry:)`` takes.
    static func pairsWeightGradientInput(_ g: ConvolutionGeometry) -> Bool {
        var shape = cShape(g)
        return !isPointwise(g) && g.inputChannels <= paddedWeightGradientChannelLimit
            && bnn_sconv_padded_count(&shape) <= Int(Int32.max)
    }

    /// `weightGradient += ∂loss/∂weight` in bfloat16 for a convolution of geometry `g` whose
    /// binarised input is `signs` (packed ±1 with a border of at least `g.padding`): the paired,
    /// padded operand of the weight gradient is made straight from the bits (`bnn_bconv_pair_signs`),
    /// without expanding them to floats first.
    ///
    /// - Precondition: ``pairsWeightGradientInput(_:)`` holds and `signs` is N×H×W×C of `g` with
    ///   `margin ≥ g.padding` (programmer error).
    static func backwardWeightBF16(signs: PackedActivations, outputGradient: UnsafePointer<Float>,
                                   weightGradient: UnsafeMutablePointer<Float>, geometry g: ConvolutionGeometry) {
        checkGeometry(g)
        precondition(pairsWeightGradientInput(g) && signs.shape == g.inputShape && signs.margin >= g.padding,
                     "Convolution.backwardWeightBF16(signs:): signs \(signs.shape) margin \(signs.margin) for \(g)")
        signs.words.withUnsafeBufferPointer { words in
            pairedWeightGradient(geometry: g, outputGradient: outputGradient, weightGradient: weightGradient) {
                s, images, pairs in
                bnn_bconv_pair_signs(s, words.baseAddress, signs.margin, images.lowerBound, images.upperBound, pairs)
            }
        }
    }

    /// The paired bfloat16 weight gradient: `pair(shape, images, pairs)` writes the paired, padded
    /// operand of `images` into `pairs` (in parallel over images, into a block of
    /// ``TensorAllocator/shared``), then the products of all pixel pairs are added into
    /// `weightGradient` on all threads (``forEachWeightGradientPiece(geometry:steps:weightGradient:_:)``).
    private static func pairedWeightGradient(
        geometry g: ConvolutionGeometry, outputGradient: UnsafePointer<Float>,
        weightGradient: UnsafeMutablePointer<Float>,
        pair: (UnsafePointer<bnn_conv_shape>, Range<Int>, UnsafeMutablePointer<UInt32>) -> Void
    ) {
        let cKernel = BFloat16GEMM.Kernel.active.cValue
        var shape = cShape(g)
        let count = max(1, bnn_sconv_padded_count(&shape))
        let steps = bnn_bconv_weight_pair_count(&shape)
        let (block, reservedBytes) = TensorAllocator.shared.allocate(byteCount: count * MemoryLayout<UInt32>.stride)
        defer { TensorAllocator.shared.deallocate(block, reservedBytes: reservedBytes) }
        let pairs = block.bindMemory(to: UInt32.self, capacity: count)
        withUnsafePointer(to: &shape) { s in
            Parallel.forEachChunk(g.batch, minimumChunk: max(1, 65_536 / max(1, count / max(1, g.batch)))) { images in
                pair(s, images, pairs)
            }
            forEachWeightGradientPiece(geometry: g, steps: steps, weightGradient: weightGradient) {
                output, add, pairRange, n0, n1 in
                bnn_bconv_backward_weight_paired(cKernel, s, pairs, outputGradient, output, add ? 1 : 0,
                                                 pairRange.lowerBound, pairRange.upperBound, n0, n1)
            }
        }
    }
}
