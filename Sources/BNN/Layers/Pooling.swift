import BNNKernels

/// Max pooling over square windows of N×H×W×C input with symmetric implicit −∞ padding.
///
/// Ties go to the first maximum in row-major window order (as PyTorch's CPU kernel), which matters
/// after HardTanh, where many values equal ±1.
public final class MaxPool2D: TensorLayer {
    /// Window size.
    public let kernelSize: Int
    /// Stride.
    public let stride: Int
    /// Padding on every side (padded positions never win).
    public let padding: Int

    private var recorded: (inputShape: [Int], argmax: [Int32])?

    /// Creates a max-pooling layer; `stride` defaults to `kernelSize`.
    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
    }

    /// E.g. `MaxPool2D(3×3, stride 2, padding 1)`.
    public var summaryDescription: String { "MaxPool2D(\(kernelSize)×\(kernelSize), stride \(stride), padding \(padding))" }

    private func geometry(_ shape: [Int]) -> ConvolutionGeometry {
        precondition(shape.count == 4, "MaxPool2D: expected N×H×W×C input, got \(shape)")
        return ConvolutionGeometry(batch: shape[0], inputHeight: shape[1], inputWidth: shape[2], inputChannels: shape[3],
                                   outputChannels: shape[3], kernelHeight: kernelSize, kernelWidth: kernelSize,
                                   stride: stride, padding: padding)
    }

    /// N×OH×OW×C.
    public func outputShape(forInputShape shape: [Int]) -> [Int] { geometry(shape).outputShape }

    /// The maximum of every window.
    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        let g = geometry(input.shape)
        let c = g.inputChannels
        var argmax = [Int32](repeating: 0, count: mode.recordsForBackward ? g.outputCount : 0)
        let record = mode.recordsForBackward
        let output = Tensor(shape: g.outputShape) { out in
            input.withUnsafeBufferPointer { x in
                argmax.withUnsafeMutableBufferPointer { arg in
                    Parallel.forEachChunk(g.batch * g.outputHeight, minimumChunk: 4) { rows in
                        for row in rows {
                            let n = row / g.outputHeight, oy = row % g.outputHeight
                            for ox in 0..<g.outputWidth {
                                let o = ((n * g.outputHeight + oy) * g.outputWidth + ox) * c
                                (out.baseAddress! + o).update(repeating: -.infinity, count: c)
                                let winner = record ? arg.baseAddress! + o : nil
                                for ky in 0..<kernelSize {
                                    let iy = oy * stride - padding + ky
                                    guard iy >= 0 && iy < g.inputHeight else { continue }
                                    for kx in 0..<kernelSize {
                                        let ix = ox * stride - padding + kx
                                        guard ix >= 0 && ix < g.inputWidth else { continue }
                                        let i = ((n * g.inputHeight + iy) * g.inputWidth + ix) * c
                                        bnn_max_pool_update(x.baseAddress! + i, Int32(i), out.baseAddress! + o, winner, c)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        recorded = record ? (input.shape, argmax) : nil
        return output
    }

    /// Routes each output gradient to the input element that won its window.
    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard let (shape, argmax) = recorded else { preconditionFailure("MaxPool2D.backward without a recording forward pass") }
        recorded = nil
        var dx = Tensor(zeros: shape)
        dx.withUnsafeMutableBufferPointer { d in
            outputGradient.withUnsafeBufferPointer { dy in
                for o in 0..<dy.count { d[Int(argmax[o])] += dy[o] }
            }
        }
        return dx
    }
}

/// Average pooling over square windows of N×H×W×C input (zero padding counted in the divisor, as
/// PyTorch's default `count_include_pad=True`).
///
/// With `ceilMode` the output size rounds up (PyTorch's `ceil_mode=True`): a last, partial window is
/// kept when it starts inside the input or its left padding, and its divisor counts only the positions
/// inside the padded input. Bi-Real Net's downsampling shortcuts use it so that odd feature maps (7×7 at
/// 28-pixel input) pool to the same size as the stride-2 convolution beside them; on even sizes it
/// changes nothing.
public final class AvgPool2D: TensorLayer {
    /// Window size.
    public let kernelSize: Int
    /// Stride.
    public let stride: Int
    /// Zero padding on every side.
    public let padding: Int
    /// Round the output size up instead of down.
    public let ceilMode: Bool

    private var recordedShape: [Int]?

    /// Creates an average-pooling layer; `stride` defaults to `kernelSize`.
    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0, ceilMode: Bool = false) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
        self.ceilMode = ceilMode
    }

    /// E.g. `AvgPool2D(2×2, stride 2)`.
    public var summaryDescription: String {
        "AvgPool2D(\(kernelSize)×\(kernelSize), stride \(stride)\(ceilMode ? ", ceil" : ""))"
    }

    private func outputExtent(_ n: Int) -> Int {
        let span = n + 2 * padding - kernelSize
        guard ceilMode else { return span / stride + 1 }
        var extent = (span + stride - 1) / stride + 1
        if (extent - 1) * stride >= n + padding { extent -= 1 }
        return extent
    }

    /// N×OH×OW×C.
    public func outputShape(forInputShape shape: [Int]) -> [Int] {
        precondition(shape.count == 4, "AvgPool2D: expected N×H×W×C input, got \(shape)")
        return [shape[0], outputExtent(shape[1]), outputExtent(shape[2]), shape[3]]
    }

    /// The window of output position `o` along an axis of extent `n`: its valid input range and the
    /// divisor (positions inside the padded input).
    @inline(__always)
    private func window(_ o: Int, extent n: Int) -> (range: Range<Int>, size: Int) {
        let start = o * stride - padding
        let end = min(start + kernelSize, n + padding)
        return (max(start, 0)..<min(end, n), end - start)
    }

    /// Visits every output position with its valid input rows/columns and divisor.
    @inline(__always)
    private func forEachWindow(_ shape: [Int], rows: Range<Int>,
                               _ body: (_ output: Int, _ ys: Range<Int>, _ xs: Range<Int>, _ scale: Float) -> Void) {
        let (h, w, c) = (shape[1], shape[2], shape[3])
        let (oh, ow) = (outputExtent(h), outputExtent(w))
        for row in rows {
            let n = row / oh, oy = row % oh
            let wy = window(oy, extent: h)
            for ox in 0..<ow {
                let wx = window(ox, extent: w)
                body(((n * oh + oy) * ow + ox) * c, wy.range.lowerBound + n * h ..< wy.range.upperBound + n * h, wx.range,
                     1 / Float(wy.size * wx.size))
            }
        }
    }

    /// The mean of every window.
    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        let outputShape = outputShape(forInputShape: input.shape)
        let (w, c) = (input.shape[2], input.shape[3])
        recordedShape = mode.recordsForBackward ? input.shape : nil
        var output = Tensor(zeros: outputShape)
        output.withUnsafeMutableBufferPointer { out in
            input.withUnsafeBufferPointer { x in
                Parallel.forEachChunk(outputShape[0] * outputShape[1], minimumChunk: 4) { rows in
                    forEachWindow(input.shape, rows: rows) { o, ys, xs, scale in
                        for y in ys {
                            for xx in xs {
                                let i = (y * w + xx) * c
                                for ch in 0..<c { out[o + ch] += x[i + ch] }
                            }
                        }
                        for ch in 0..<c { out[o + ch] *= scale }
                    }
                }
            }
        }
        return output
    }

    /// Spreads each output gradient evenly over its window.
    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard let shape = recordedShape else { preconditionFailure("AvgPool2D.backward without a recording forward pass") }
        let (w, c) = (shape[2], shape[3])
        var dx = Tensor(zeros: shape)
        dx.withUnsafeMutableBufferPointer { d in
            outputGradient.withUnsafeBufferPointer { dy in
                forEachWindow(shape, rows: 0..<(shape[0] * outputExtent(shape[1]))) { o, ys, xs, scale in
                    for y in ys {
                        for xx in xs {
                            let i = (y * w + xx) * c
                            for ch in 0..<c { d[i + ch] += scale * dy[o + ch] }
                        }
                    }
                }
            }
        }
        return dx
    }
}

/// Global average pooling: N×H×W×C → N×C.
public final class GlobalAvgPool: TensorLayer {
    private var recordedShape: [Int]?

    /// Creates the layer.
    public init() {}

    /// N×C.
    public func outputShape(forInputShape shape: [Int]) -> [Int] { [shape[0], shape[3]] }

    /// The mean over H and W of every channel.
    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        precondition(input.rank == 4, "GlobalAvgPool: expected N×H×W×C input, got \(input.shape)")
        let (n, pixels, c) = (input.shape[0], input.shape[1] * input.shape[2], input.shape[3])
        recordedShape = mode.recordsForBackward ? input.shape : nil
        return Tensor(shape: [n, c]) { out in
            input.withUnsafeBufferPointer { x in
                for b in 0..<n {
                    for ch in 0..<c { out[b * c + ch] = 0 }
                    for p in 0..<pixels {
                        let base = (b * pixels + p) * c
                        for ch in 0..<c { out[b * c + ch] += x[base + ch] }
                    }
                    for ch in 0..<c { out[b * c + ch] /= Float(pixels) }
                }
            }
        }
    }

    /// Spreads each channel's gradient evenly over the pixels.
    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard let shape = recordedShape else { preconditionFailure("GlobalAvgPool.backward without a recording forward pass") }
        let (n, pixels, c) = (shape[0], shape[1] * shape[2], shape[3])
        return Tensor(shape: shape) { dx in
            outputGradient.withUnsafeBufferPointer { dy in
                for b in 0..<n {
                    for p in 0..<pixels {
                        let base = (b * pixels + p) * c
                        for ch in 0..<c { dx[base + ch] = dy[b * c + ch] / Float(pixels) }
                    }
                }
            }
        }
    }
}
