import BNN

/// One measured convolution: a shape at a batch size and thread count, float vs binary.
struct ConvolutionMeasurement: Codable {
    var layer: String
    var binaryInModel: Bool
    var batch: Int
    var threads: Int
    /// Multiply-accumulates of one forward pass.
    var macs: Int
    /// Float convolution (`Convolution.forward`) seconds, nil when skipped.
    var floatSeconds: Double?
    /// Binary convolution seconds: sign-and-pack of the float input, XOR-popcount kernel and fused
    /// output transform to floats.
    var binarySeconds: Double
    /// The XOR-popcount kernel alone (pre-packed input, raw integer dots).
    var kernelSeconds: Double
    /// Sign-and-pack of the float input alone.
    var packSeconds: Double
    var floatWeightBytes: Int
    var packedWeightBytes: Int

    /// Float GFLOP/s (2 operations per MAC).
    var floatGFLOPS: Double? { floatSeconds.map { 2 * Double(macs) / $0 / 1e9 } }
    /// Binary GOP/s of the whole binary convolution (XNOR and popcount-add: 2 operations per bit-MAC).
    var binaryGOPS: Double { 2 * Double(macs) / binarySeconds / 1e9 }
    /// Binary GOP/s of the kernel alone.
    var kernelGOPS: Double { 2 * Double(macs) / kernelSeconds / 1e9 }
    /// Float time / binary time.
    var speedUp: Double? { floatSeconds.map { $0 / binarySeconds } }
}

/// Times every shape of ``ConvolutionShape/biRealNet34`` in float and in binary.
struct ConvolutionBenchmark {
    var options: BenchOptions

    /// Runs the selected shapes, batches and thread counts; `progress` gets one line per measurement.
    ///
    /// - Throws: ``BinaryKernelError`` if a shape cannot be packed (a bug in the shape table).
    func run(progress: (String) -> Void) throws -> [ConvolutionMeasurement] {
        let shapes = ConvolutionShape.biRealNet34.filter { options.layerFilter.map($0.name.contains) ?? true }
        let savedThreads = Parallel.threadCount
        defer { Parallel.threadCount = savedThreads }
        var results: [ConvolutionMeasurement] = []
        for batch in options.batches {
            for shape in shapes {
                var g = shape.geometry
                g.batch = batch
                let operands = try Operands(geometry: g)
                for threads in options.threads {
                    Parallel.threadCount = threads
                    let m = try measure(shape: shape, geometry: g, operands: operands, threads: threads)
                    progress("\(shape.name) batch \(batch) threads \(threads): binary \(Self.ms(m.binarySeconds))")
                    results.append(m)
                }
            }
        }
        return results
    }

    private func measure(shape: ConvolutionShape, geometry g: ConvolutionGeometry, operands: Operands,
                         threads: Int) throws -> ConvolutionMeasurement {
        // Big float layers get fewer repetitions in the time budget; at least two runs each.
        let seconds = options.quick ? 0.05 : 0.3
        let runs = options.quick ? 2 : 5
        var floatOutput = [Float](repeating: 0, count: g.outputCount)
        var binaryOutput = [Float](repeating: 0, count: g.outputCount)
        var dots = [Int32](repeating: 0, count: g.outputCount)
        let floatSeconds: Double? = options.skipFloat ? nil : operands.input.withUnsafeBufferPointer { x in
            operands.weights.withUnsafeBufferPointer { w in
                floatOutput.withUnsafeMutableBufferPointer { y in
                    BenchClock.fastest(minimumRuns: runs, minimumSeconds: seconds) {
                        Convolution.forward(input: x.baseAddress!, weight: w.baseAddress!, output: y.baseAddress!,
                                            geometry: g)
                    }
                }
            }
        }
        let transform = BinaryOutputTransform(scale: operands.packedWeights.alpha, bias: operands.bias, clamp: -1...1)
        let prepared = try PreparedBinaryConvolution(weights: operands.packedWeights, stride: g.stride, padding: g.padding,
                                                     transform: transform)
        let (binarySeconds, packSeconds) = operands.input.withUnsafeBufferPointer { x in
            binaryOutput.withUnsafeMutableBufferPointer { y in
                let full = BenchClock.fastest(minimumRuns: runs, minimumSeconds: seconds) {
                    let packed = PackedActivations(packing: x.baseAddress!, batch: g.batch, height: g.inputHeight,
                                                   width: g.inputWidth, channels: g.inputChannels, margin: g.padding)
                    _ = packed.words.withUnsafeBufferPointer { p in
                        prepared.run(input: p.baseAddress!, inputMargin: packed.margin, batch: g.batch,
                                     height: g.inputHeight, width: g.inputWidth, output: y.baseAddress)
                    }
                }
                let pack = BenchClock.fastest(minimumRuns: runs, minimumSeconds: seconds / 3) {
                    _ = PackedActivations(packing: x.baseAddress!, batch: g.batch, height: g.inputHeight,
                                          width: g.inputWidth, channels: g.inputChannels, margin: g.padding)
                }
                return (full, pack)
            }
        }
        let kernelSeconds = dots.withUnsafeMutableBufferPointer { d in
            BenchClock.fastest(minimumRuns: runs, minimumSeconds: seconds) {
                _ = operands.packedInput.words.withUnsafeBufferPointer { p in
                    prepared.run(input: p.baseAddress!, inputMargin: operands.packedInput.margin, batch: g.batch,
                                 height: g.inputHeight, width: g.inputWidth, output: nil, dots: d.baseAddress)
                }
            }
        }
        return ConvolutionMeasurement(layer: shape.name, binaryInModel: shape.binaryInModel, batch: g.batch,
                                      threads: threads, macs: g.macs, floatSeconds: floatSeconds,
                                      binarySeconds: binarySeconds, kernelSeconds: kernelSeconds,
                                      packSeconds: packSeconds,
                                      floatWeightBytes: operands.packedWeights.floatByteCount,
                                      packedWeightBytes: operands.packedWeights.packedByteCount)
    }

    /// Milliseconds with three decimals.
    static func ms(_ seconds: Double) -> String { String(format: "%.3f ms", seconds * 1e3) }

    /// Random float operands of one geometry and their packed forms.
    private struct Operands {
        var input: [Float]
        var weights: [Float]
        var bias: [Float]
        var packedInput: PackedActivations
        var packedWeights: PackedWeights

        init(geometry g: ConvolutionGeometry) throws {
            var generator = SeededGenerator(seed: UInt64(g.macs))
            let x = Tensor(randomNormal: g.inputShape, generator: &generator)
            let w = Tensor(randomNormal: [g.outputChannels, g.kernelHeight, g.kernelWidth, g.inputChannels],
                           standardDeviation: 0.05, generator: &generator)
            input = x.scalars
            weights = w.scalars
            bias = (0..<g.outputChannels).map { _ in generator.nextUnitFloat() - 0.5 }
            packedInput = try PackedActivations(packing: x, margin: g.padding)
            packedWeights = try PackedWeights(packing: w)
        }
    }
}
