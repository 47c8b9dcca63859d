import BNN
import BNNKernels
import Foundation

/// Runs a ``PackedModel`` on batches of images, multi-threaded (``BNN/Parallel/threadCount`` threads).
///
/// Per image: float stem convolution (BatchNorm folded) → bias, clamp to [−1, 1], 3×3/2 max-pool and
/// sign packing in one pass → for every block, the shortcut (average pool and 1×1 float GEMM when it
/// downsamples) and one fused binary convolution that adds scale·dot + bias + shortcut, clamps, and
/// writes both the float result (the next shortcut) and its packed signs (the next binary input) →
/// global average pool → classifier. The binary dot products are exact integers, zero padding
/// included; see ``PackedModel`` for the numerical contract.
///
/// Buffers are allocated for the first batch of a size and reused; calls are serialised (one run at
/// a time per engine; the run itself uses all threads).
///
/// ```swift
/// let engine = try InferenceEngine(contentsOf: URL(fileURLWithPath: "birealnet18.bnnpack"))
/// let logits = try engine.logits(for: images)   // N×224×224×3 → N×1000
/// ```
public final class InferenceEngine: @unchecked Sendable {
    /// The model being run.
    public let model: PackedModel
    private let stem: PreparedFloatConvolution
    private let blocks: [(layer: PackedBinaryConvolution, binary: PreparedBinaryConvolution, downsample: PreparedFloatConvolution?, binaryStep: String, downsampleStep: String)]
    private let classifier: PreparedFloatConvolution
    private let plan: EnginePlan
    private let stemEpilogue: StemEpilogue
    private let stemBias: [Float]
    private let lock = NSLock()
    private var workspace: EngineWorkspace?

    /// Prepares `model` (packs the float weights into the SGEMM layout, the binary signs into the
    /// kernels' blocked layout).
    public init(model: PackedModel) {
        self.model = model
        stem = PreparedFloatConvolution(model.stem)
        blocks = model.blocks.map {
            ($0.binary, $0.binary.prepared(), $0.downsample.map(PreparedFloatConvolution.init),
             "\($0.name).binary_conv", "\($0.name).downsample")
        }
        classifier = PreparedFloatConvolution(model.classifier)
        plan = EnginePlan(model: model, stem: stem)
        stemEpilogue = StemEpilogue(inputHeight: plan.stemHeight, inputWidth: plan.stemWidth, outputHeight: plan.pooledHeight,
                                    outputWidth: plan.pooledWidth, channels: model.stem.outputChannels, pools: model.hasMaxPool,
                                    margin: plan.blocks[0].margin)
        stemBias = model.stem.bias ?? [Float](repeating: 0, count: model.stem.outputChannels)
    }

    /// Loads a packed model file and prepares it; see ``PackedModel/init(contentsOf:)`` for the errors.
    public convenience init(contentsOf url: URL) throws {
        self.init(model: try PackedModel(contentsOf: url))
    }

    /// The logits, N×classes, of N×H×W×3 images (normalised, channels last) with H×W the model's input size.
    ///
    /// - Throws: ``InferenceError/inputShape(expected:found:)`` for another shape.
    public func logits(for images: Tensor) throws -> Tensor {
        var profile: InferenceProfile?
        return try run(images, profile: &profile)
    }

    /// As ``logits(for:)``, adding the time of every step and the count of zero activations to `profile`.
    public func logits(for images: Tensor, profile: inout InferenceProfile) throws -> Tensor {
        var optional: InferenceProfile? = profile
        let logits = try run(images, profile: &optional)
        if let optional { profile = optional }
        return logits
    }

    private func run(_ images: Tensor, profile: inout InferenceProfile?) throws -> Tensor {
        let (h, w) = (model.inputHeight, model.inputWidth)
        guard images.rank == 4, images.shape[0] > 0, images.shape[1] == h, images.shape[2] == w, images.shape[3] == 3 else {
            throw InferenceError.inputShape(expected: "N×\(h)×\(w)×3 (N ≥ 1, channels last)", found: images.shape)
        }
        let batch = images.shape[0]
        lock.lock()
        defer { lock.unlock() }
        let ws: EngineWorkspace
        if let existing = workspace, existing.batch == batch {
            ws = existing
        } else {
            workspace = nil
            ws = EngineWorkspace(plan: plan, batch: batch)
            workspace = ws
        }
        var stepIndex = 0
        var zeros = 0
        func record(_ name: String, _ kind: InferenceProfile.Kind, macs: Int, seconds: Double) {
            profile?.record(stepIndex, name: name, kind: kind, macs: macs, seconds: seconds)
            stepIndex += 1
        }
        func step(_ name: String, _ kind: InferenceProfile.Kind, macs: Int, _ body: () -> Void) {
            guard profile != nil else { body(); return }
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            record(name, kind, macs: macs, seconds: Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
        }
        let p = plan
        // The stem runs image by image, so that the pooling reads the large stem output back while it
        // is still in cache; the time of each of its two steps is summed over the images.
        var convolutionNanoseconds: UInt64 = 0, poolingNanoseconds: UInt64 = 0
        let pooledCount = p.pooledHeight * p.pooledWidth * stem.outputChannels
        images.withUnsafeBufferPointer { input in
            stemBias.withUnsafeBufferPointer { bias in
                for n in 0..<batch {
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    stem.convolve(input.baseAddress! + n * h * w * 3, batch: 1, height: h, width: w,
                                  output: ws.stemOutput.base, padded: ws.stemPadded?.base)
                    let t1 = DispatchTime.now().uptimeNanoseconds
                    zeros += stemEpilogue.run(ws.stemOutput.base, batch: 1, bias: bias.baseAddress!,
                                              output: ws.activations[0].base + n * pooledCount,
                                              packed: ws.packed[0].base + n * p.blocks[0].packedInputWordsPerImage)
                    convolutionNanoseconds += t1 - t0
                    poolingNanoseconds += DispatchTime.now().uptimeNanoseconds - t1
                }
            }
        }
        record("stem.conv", .stemConvolution, macs: batch * p.stemOutputCount * stem.kernelSize * stem.kernelSize * 3,
               seconds: Double(convolutionNanoseconds) * 1e-9)
        record("stem.pool", .stemPooling, macs: 0, seconds: Double(poolingNanoseconds) * 1e-9)
        var current = 0
        for (i, block) in blocks.enumerated() {
            let b = p.blocks[i]
            let layer = block.layer
            var residual = UnsafePointer(ws.activations[current].base)
            if let downsample = block.downsample {
                let pointwiseMACs = batch * b.outputHeight * b.outputWidth * layer.inputChannels * layer.outputChannels
                step(block.downsampleStep, .downsample, macs: pointwiseMACs) {
                    averagePool(ws.activations[current].base, batch: batch, height: b.inputHeight, width: b.inputWidth,
                                channels: layer.inputChannels, size: layer.stride, output: ws.pooled.base)
                    downsample.multiply(ws.pooled.base, rows: batch * b.outputHeight * b.outputWidth, output: ws.residual.base)
                }
                residual = UnsafePointer(ws.residual.base)
            }
            let next = i + 1 < blocks.count ? (buffer: ws.packed[i + 1].base, margin: p.blocks[i + 1].margin) : nil
            let macs = batch * b.outputHeight * b.outputWidth * layer.outputChannels * layer.kernelSize * layer.kernelSize
                * layer.inputChannels
            step(block.binaryStep, .binaryConvolution, macs: macs) {
                zeros += block.binary.run(input: ws.packed[i].base, inputMargin: b.margin, batch: batch, height: b.inputHeight,
                                          width: b.inputWidth, residual: residual, output: ws.activations[1 - current].base,
                                          packedOutput: next?.buffer, outputMargin: next?.margin ?? 0)
            }
            current = 1 - current
        }
        let classes = classifier.outputChannels
        var logits = Tensor(zeros: [batch, classes])
        guard let last = p.blocks.last else { preconditionFailure("InferenceEngine: a model has at least one block") }
        step("head", .head, macs: batch * p.featureCount * classes) {
            globalAveragePool(ws.activations[current].base, batch: batch, pixels: last.outputHeight * last.outputWidth,
                              channels: p.featureCount, output: ws.features.base)
            logits.withUnsafeMutableBufferPointer { out in
                classifier.multiply(ws.features.base, rows: batch, output: out.baseAddress!)
                if let bias = classifier.bias {
                    for n in 0..<batch {
                        for k in 0..<classes { out[n * classes + k] += bias[k] }
                    }
                }
            }
        }
        if profile != nil {
            profile?.runs += 1
            profile?.zeroActivations += zeros
        }
        return logits
    }
}

/// Average pool with window = stride = `size`, no padding, ceil mode (a last partial window averages
/// only its valid positions), N×H×W×C → N×⌈H/size⌉×⌈W/size⌉×C.
private func averagePool(_ input: UnsafePointer<Float>, batch: Int, height: Int, width: Int, channels c: Int, size: Int,
                         output: UnsafeMutablePointer<Float>) {
    let (oh, ow) = ((height + size - 1) / size, (width + size - 1) / size)
    Parallel.forEachChunk(batch * oh, minimumChunk: max(1, 16_384 / max(1, ow * c))) { rows in
        for row in rows {
            let n = row / oh, oy = row % oh
            let y0 = oy * size, y1 = Swift.min(y0 + size, height)
            for ox in 0..<ow {
                let x0 = ox * size, x1 = Swift.min(x0 + size, width)
                let o = output + (row * ow + ox) * c
                for ch in 0..<c { o[ch] = 0 }
                for y in y0..<y1 {
                    for x in x0..<x1 {
                        let i = input + ((n * height + y) * width + x) * c
                        for ch in 0..<c { o[ch] += i[ch] }
                    }
                }
                let scale = 1 / Float((y1 - y0) * (x1 - x0))
                for ch in 0..<c { o[ch] *= scale }
            }
        }
    }
}

/// The mean over the pixels of every image and channel: N×P×C → N×C.
private func globalAveragePool(_ input: UnsafePointer<Float>, batch: Int, pixels: Int, channels c: Int,
                               output: UnsafeMutablePointer<Float>) {
    for n in 0..<batch {
        let o = output + n * c
        for ch in 0..<c { o[ch] = 0 }
        for pixel in 0..<pixels {
            let i = input + (n * pixels + pixel) * c
            for ch in 0..<c { o[ch] += i[ch] }
        }
        for ch in 0..<c { o[ch] /= Float(pixels) }
    }
}
