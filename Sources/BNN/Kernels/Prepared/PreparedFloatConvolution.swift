import BNNKernels

/// A real-valued convolution (or, with a 1×1 kernel, a matrix product) prepared once and run many
/// times: the O×kH×kW×C weights packed into the kernels' 16-column panels (64-byte aligned), the
/// kernel family and the operand precision chosen when prepared.
///
/// In ``ComputePrecision/fp32`` the SGEMM kernels (``GEMM/Kernel``) run on single-precision panels;
/// in ``ComputePrecision/bf16`` the weights are kept as bfloat16 pairs (half the memory) and each run
/// rounds its input to bfloat16 for the ``BFloat16GEMM`` kernels, with single-precision sums.
///
/// The float twin of ``PreparedBinaryConvolution``: the inference engine runs its stem, shortcuts and
/// classifier through it. ``convolve(_:batch:height:width:output:padded:)`` and
/// ``multiply(_:rows:output:)`` fill the C shape and split the output rows over ``Parallel`` (at least
/// about 2²⁰ multiply-adds per piece). The bias is not added (the caller fuses it into its epilogue).
public final class PreparedFloatConvolution: @unchecked Sendable {
    /// Output channels O.
    public let outputChannels: Int
    /// Input channels C (features F of a linear layer).
    public let inputChannels: Int
    /// Square kernel size k (1 for a linear layer).
    public let kernelSize: Int
    /// Stride in both directions.
    public let stride: Int
    /// Symmetric zero padding.
    public let padding: Int
    /// Bias per output channel (O values), or nil; kept for the caller's epilogue.
    public let bias: [Float]?
    /// The SGEMM kernel family every single-precision run calls.
    public let kernel: GEMM.Kernel
    /// The operand precision of the products (and the element type of the packed weights).
    public let precision: ComputePrecision
    /// The weights in single-precision panels (``ComputePrecision/fp32``) or bfloat16 pairs.
    private let packed: AlignedBuffer<Float>?
    private let packedPairs: AlignedBuffer<UInt16>?
    private let pairKernel: BFloat16GEMM.Kernel

    /// Packs O×k×k×C weights (O×F for a linear layer: k = 1, C = F).
    ///
    /// - Parameters:
    ///   - outputChannels: O (≥ 1).
    ///   - inputChannels: C (≥ 1).
    ///   - kernelSize: k (≥ 1).
    ///   - stride: stride (≥ 1).
    ///   - padding: zero padding (≥ 0).
    ///   - weight: O·k·k·C floats, row-major O×k×k×C.
    ///   - bias: O floats or nil.
    ///   - kernel: the SGEMM kernel family; ``GEMM/Kernel/active`` (which honours `BNN_KERNELS`) by default.
    ///   - precision: the operand precision, ``ComputePrecision/fp32`` by default; ``ComputePrecision/bf16``
    ///     runs ``BFloat16GEMM/Kernel/active`` (the portable loop where the CPU has no bfloat16 instructions).
    /// - Precondition: the sizes are positive, `weight` and `bias` have the counts above and `kernel`
    ///   runs on this CPU (programmer errors: callers validate user data first).
    public init(outputChannels: Int, inputChannels: Int, kernelSize: Int, stride: Int, padding: Int, weight: [Float],
                bias: [Float]?, kernel: GEMM.Kernel = .active, precision: ComputePrecision = .fp32) {
        precondition(outputChannels > 0 && inputChannels > 0 && kernelSize > 0 && stride > 0 && padding >= 0,
                     "PreparedFloatConvolution: invalid geometry")
        precondition(weight.count == outputChannels * kernelSize * kernelSize * inputChannels
                     && (bias?.count ?? outputChannels) == outputChannels,
                     "PreparedFloatConvolution: weight or bias count does not fit the geometry")
        precondition(kernel.isAvailable, "PreparedFloatConvolution: the \(kernel) kernel does not run on this CPU")
        self.outputChannels = outputChannels
        self.inputChannels = inputChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        self.bias = bias
        self.kernel = kernel
        self.precision = precision
        pairKernel = .active
        let k = kernelSize * kernelSize * inputChannels
        let panels = (outputChannels + Int(BNN_SGEMM_NR) - 1) / Int(BNN_SGEMM_NR)
        switch precision {
        case .fp32:
            let panelled = AlignedBuffer<Float>(count: bnn_sgemm_packed_b_count(outputChannels, k))
            weight.withUnsafeBufferPointer { w in
                bnn_sgemm_pack_b(1, outputChannels, k, w.baseAddress!, k, 0, panels, panelled.base)
            }
            (packed, packedPairs) = (panelled, nil)
        case .bf16:
            // The operand of the direct pass (which depends on the kernel, not on the input size).
            var s = bnn_conv_shape(batch: 1, height: kernelSize, width: kernelSize, channels: inputChannels,
                                   out_channels: outputChannels, kernel_h: kernelSize, kernel_w: kernelSize,
                                   stride: stride, padding: padding)
            let pairs = AlignedBuffer<UInt16>(count: bnn_bgemm_packed_b_count(outputChannels, bnn_bconv_direct_patch_size(&s)))
            weight.withUnsafeBufferPointer { w in
                bnn_bconv_pack_direct_weight(&s, w.baseAddress!, 0, panels, pairs.base)
            }
            (packed, packedPairs) = (nil, pairs)
        }
    }

    /// Output extent for an input extent: `(n + 2·padding − k) / stride + 1`.
    public func outputExtent(_ n: Int) -> Int { (n + 2 * padding - kernelSize) / stride + 1 }

    /// The C shape description for an N×H×W input.
    func shape(batch: Int, height: Int, width: Int) -> bnn_conv_shape {
        bnn_conv_shape(batch: batch, height: height, width: width, channels: inputChannels, out_channels: outputChannels,
                       kernel_h: kernelSize, kernel_w: kernelSize, stride: stride, padding: padding)
    }

    /// Whether the convolution reads a zero-padded copy of its input (every one but a plain 1×1
    /// matrix product).
    public var needsPaddedInput: Bool { !(kernelSize == 1 && stride == 1 && padding == 0) }

    /// Floats of the scratch a run on an N×H×W input needs: the padded input copy, or in
    /// ``ComputePrecision/bf16`` the padded input rounded to bfloat16 (two values per float, with the
    /// copy shifted by one value that odd channel counts and strides read, `bnn_bconv_rounded_count`).
    public func paddedCount(batch: Int, height: Int, width: Int) -> Int {
        var s = shape(batch: batch, height: height, width: width)
        return precision == .bf16 ? (bnn_bconv_rounded_count(&s) + 1) / 2 : bnn_sconv_padded_count(&s)
    }

    /// `output = conv(input)` without the bias (N·OH·OW·O floats); `padded` is the scratch of
    /// ``paddedCount(batch:height:width:)`` floats (64-byte aligned) when ``needsPaddedInput``.
    ///
    /// - Precondition: `padded` is set when ``needsPaddedInput`` (programmer error).
    public func convolve(_ input: UnsafePointer<Float>, batch: Int, height: Int, width: Int, output: UnsafeMutablePointer<Float>,
                  padded: UnsafeMutablePointer<Float>?) {
        var s = shape(batch: batch, height: height, width: width)
        let m = batch * outputExtent(height) * outputExtent(width)
        let k = kernelSize * kernelSize * inputChannels, n = outputChannels
        guard needsPaddedInput else {
            multiply(input, rows: m, output: output)
            return
        }
        guard let padded else { preconditionFailure("PreparedFloatConvolution.convolve: a padded-input scratch is needed") }
        let local = s
        if let pairs = packedPairs {
            // The input padded and rounded once in one pass (the patches are read from it).
            let count = bnn_bconv_rounded_count(&s)
            let rounded = UnsafeMutableRawPointer(padded).bindMemory(to: UInt16.self, capacity: count)
            Parallel.forEachChunk(batch) { images in
                var shape = local
                bnn_bconv_pad_round_input(&shape, input, images.lowerBound, images.upperBound, rounded)
            }
            let (weights, kernel) = (UnsafePointer(pairs.base), pairKernel.cValue)
            Self.forEachRowTile(rows: m, macsPerRow: n * k) { m0, m1 in
                var shape = local
                bnn_bconv_forward_direct(kernel, &shape, rounded, weights, output, m0, m1, 0, n)
            }
            return
        }
        Parallel.forEachChunk(batch) { images in
            var shape = local
            bnn_sconv_pad_input(&shape, input, images.lowerBound, images.upperBound, padded)
        }
        guard let panels = packed else { return }
        let (weights, kernel) = (UnsafePointer(panels.base), self.kernel.cValue)
        Self.forEachRowTile(rows: m, macsPerRow: n * k) { m0, m1 in
            var shape = local
            bnn_sconv_forward_direct(kernel, &shape, padded, weights, output, m0, m1, 0, n)
        }
    }

    /// `output = input·Wᵀ` for `rows` rows of C values (1×1 convolution or linear layer), bias not added.
    public func multiply(_ input: UnsafePointer<Float>, rows: Int, output: UnsafeMutablePointer<Float>) {
        let (n, k) = (outputChannels, inputChannels)
        if let pairs = packedPairs {
            let (weights, kernel) = (UnsafePointer(pairs.base), pairKernel.cValue)
            Self.forEachRowTile(rows: rows, macsPerRow: n * k) { m0, m1 in
                bnn_bgemm_packed(kernel, 0, k, input, k, weights, output, n, 0, m0, m1, 0, n)
            }
            return
        }
        guard let panels = packed else { return }
        let (weights, kernel) = (UnsafePointer(panels.base), self.kernel.cValue)
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
