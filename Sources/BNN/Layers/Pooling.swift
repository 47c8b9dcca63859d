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
                                for ch in 0..<c { out[o + ch] = -.infinity }
                                for ky in 0..<kernelSize {
                                    let iy = oy * stride - padding + ky
                                    guard iy >= 0 && iy < g.inputHeight else { continue }
                                    for kx in 0..<kernelSize {
                                        let ix = ox * stride - padding + kx
                                        guard ix >= 0 && ix < g.inputWidth else { continue }
                                        let i = ((n * g.inputHeight + iy) * g.inputWidth + ix) * c
                                        for ch in 0..<c where x[i + ch] > out[o + ch] || x[i + ch].isNaN {
                                            out[o + ch] = x[i + ch]
                                            if record { arg[o + ch] = Int32(i + ch) }
                                        }
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
public final class AvgPool2D: TensorLayer {
    /// Window size.
    public let kernelSize: Int
    /// Stride.
    public let stride: Int
    /// Zero padding on every side.
    public let padding: Int

    private var recordedShape: [Int]?

    /// Creates an average-pooling layer; `stride` defaults to `kernelSize`.
    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
    }

    /// E.g. `AvgPool2D(2×2, stride 2)`.
    public var summaryDescription: String { "AvgPool2D(\(kernelSize)×\(kernelSize), stride \(stride))" }

    private func geometry(_ shape: [Int]) -> ConvolutionGeometry {
        precondition(shape.count == 4, "AvgPool2D: expected N×H×W×C input, got \(shape)")
        return ConvolutionGeometry(batch: shape[0], inputHeight: shape[1], inputWidth: shape[2], inputChannels: shape[3],
                                   outputChannels: shape[3], kernelHeight: kernelSize, kernelWidth: kernelSize,
                                   stride: stride, padding: padding)
    }

    /// N×OH×OW×C.
    public func outputShape(forInputShape shape: [Int]) -> [Int] { geometry(shape).outputShape }

    /// Visits every (output offset, input offset) pair of the windows.
    @inline(__always)
    private func forEachTap(_ g: ConvolutionGeometry, rows: Range<Int>, _ body: (Int, Int) -> Void) {
        let c = g.inputChannels
        for row in rows {
            let n = row / g.outputHeight, oy = row % g.outputHeight
            for ox in 0..<g.outputWidth {
                let o = ((n * g.outputHeight + oy) * g.outputWidth + ox) * c
                for ky in 0..<kernelSize {
                    let iy = oy * stride - padding + ky
                    guard iy >= 0 && iy < g.inputHeight else { continue }
                    for kx in 0..<kernelSize {
                        let ix = ox * stride - padding + kx
                        guard ix >= 0 && ix < g.inputWidth else { continue }
                        body(o, ((n * g.inputHeight + iy) * g.inputWidth + ix) * c)
                    }
                }
            }
        }
    }

    /// The mean of every window.
    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        let g = geometry(input.shape)
        let c = g.inputChannels
        let scale = 1 / Float(kernelSize * kernelSize)
        recordedShape = mode.recordsForBackward ? input.shape : nil
        var output = Tensor(zeros: g.outputShape)
        output.withUnsafeMutableBufferPointer { out in
            input.withUnsafeBufferPointer { x in
                Parallel.forEachChunk(g.batch * g.outputHeight, minimumChunk: 4) { rows in
                    forEachTap(g, rows: rows) { o, i in for ch in 0..<c { out[o + ch] += x[i + ch] } }
                }
            }
        }
        output.scale(by: scale)
        return output
    }

    /// Spreads each output gradient evenly over its window.
    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard let shape = recordedShape else { preconditionFailure("AvgPool2D.backward without a recording forward pass") }
        let g = geometry(shape)
        let c = g.inputChannels
        let scale = 1 / Float(kernelSize * kernelSize)
        var dx = Tensor(zeros: shape)
        dx.withUnsafeMutableBufferPointer { d in
            outputGradient.withUnsafeBufferPointer { dy in
                forEachTap(g, rows: 0..<(g.batch * g.outputHeight)) { o, i in
                    for ch in 0..<c { d[i + ch] += scale * dy[o + ch] }
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
