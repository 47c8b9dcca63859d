import BNN
import BNNKernels
import Testing

/// The parts of the binary epilogue the inference engine fuses per run (``BinaryEpilogue``): RPReLU
/// after the transform, a threshold on the packed signs, and convolutions writing channel slices of
/// one wider output.
@Suite("Binary convolution epilogue: activation, packing threshold, channel slices")
struct BinaryEpilogueTests {
    /// One convolution call's float output and packed signs.
    struct Result: Equatable {
        var values: [Float]
        var packed: [UInt64]
        var unrepresentable: Int
    }

    /// A layer to run: packed input, weights, transform and residual.
    struct Layer {
        let input: PackedActivations
        let weights: PackedWeights
        let stride: Int, padding: Int
        let transform: BinaryOutputTransform
        let residual: [Float]

        var geometry: ConvolutionGeometry {
            ConvolutionGeometry(batch: input.batch, inputHeight: input.height, inputWidth: input.width,
                                inputChannels: input.channels, outputChannels: weights.outputChannels,
                                kernelHeight: weights.kernelHeight, kernelWidth: weights.kernelWidth, stride: stride,
                                padding: padding)
        }

        static func random(batch: Int, size: Int, channels: Int, outputs: Int, kernel: Int, stride: Int,
                           generator: inout SeededGenerator) throws -> Layer {
            let padding = kernel / 2
            let x = BinaryTestSupport.signedValues([batch, size, size, channels], generator: &generator)
            let w = BinaryTestSupport.signedValues([outputs, kernel, kernel, channels], generator: &generator)
            let weights = try PackedWeights(packing: w)
            let transform = BinaryOutputTransform(scale: (0..<outputs).map { _ in generator.nextUnitFloat() * 0.3 - 0.1 },
                                                  bias: (0..<outputs).map { _ in generator.nextUnitFloat() - 0.5 })
            let oh = (size + 2 * padding - kernel) / stride + 1
            let residual = BinaryTestSupport.signedValues([batch, oh, oh, outputs], generator: &generator).scalars
            return Layer(input: try PackedActivations(packing: x, margin: padding), weights: weights, stride: stride,
                         padding: padding, transform: transform, residual: residual)
        }

        /// Runs `variant` with `epilogue` into `values` / `packed` (margin 1) at the given slice.
        func run(_ variant: BinaryKernelVariant, epilogue: BinaryEpilogue, values: inout [Float], channel: Int,
                 packed: inout [UInt64]) throws -> Int {
            let prepared = try PreparedBinaryConvolution(weights: weights, stride: stride, padding: padding,
                                                         transform: transform, variant: variant)
            let g = geometry
            let rows = g.batch * g.outputHeight
            var unrepresentable = 0
            input.words.withUnsafeBufferPointer { x in
                residual.withUnsafeBufferPointer { r in
                    values.withUnsafeMutableBufferPointer { v in
                        packed.withUnsafeMutableBufferPointer { p in
                            // Two calls, to exercise row ranges.
                            for range in [0..<rows / 2, rows / 2..<rows] where !range.isEmpty {
                                unrepresentable += prepared.run(
                                    input: x.baseAddress!, inputMargin: input.margin, batch: g.batch, height: g.inputHeight,
                                    width: g.inputWidth, residual: r.baseAddress, output: v.baseAddress! + channel,
                                    packedOutput: p.baseAddress, outputMargin: 1, epilogue: epilogue, rows: range)
                            }
                        }
                    }
                }
            }
            return unrepresentable
        }

        /// A dense run: N×OH×OW×O floats and packed signs with a border of 1.
        func dense(_ variant: BinaryKernelVariant, epilogue: BinaryEpilogue = BinaryEpilogue()) throws -> Result {
            let g = geometry
            var values = [Float](repeating: .nan, count: g.outputCount)
            var packed = [UInt64](repeating: 0, count: g.batch * (g.outputHeight + 2) * (g.outputWidth + 2)
                                                    * binaryWordCount(channels: g.outputChannels))
            let count = try run(variant, epilogue: epilogue, values: &values, channel: 0, packed: &packed)
            return Result(values: values, packed: packed, unrepresentable: count)
        }
    }

    static func table(_ count: Int, _ generator: inout SeededGenerator, scale: Float, offset: Float) -> AlignedBuffer<Float> {
        AlignedBuffer((0..<count).map { _ in generator.nextUnitFloat() * scale + offset })
    }

    /// Sign bit of channel `c` of pixel `pixel` in packed signs with a border of 1.
    static func bit(_ packed: [UInt64], pixel: Int, channel c: Int, g: ConvolutionGeometry, words: Int) -> Bool {
        let ox = pixel % g.outputWidth, row = pixel / g.outputWidth
        let oy = row % g.outputHeight, n = row / g.outputHeight
        let base = ((n * (g.outputHeight + 2) + oy + 1) * (g.outputWidth + 2) + ox + 1) * words
        return packed[base + c / 64] >> (c % 64) & 1 == 1
    }

    @Test("RPReLU and the packing threshold: the reference applies them to the transformed values; every variant equals it bit for bit",
          arguments: [(7, 64, 48, 3, 1), (15, 130, 40, 3, 2), (15, 64, 32, 1, 1), (9, 3, 70, 3, 1), (16, 32, 32, 3, 1), (13, 20, 24, 1, 1)])
    func activationAndThreshold(size: Int, channels: Int, outputs: Int, kernel: Int, stride: Int) throws {
        var generator = SeededGenerator(seed: 4_100 + UInt64(size * channels + outputs))
        let layer = try Layer.random(batch: 2, size: size, channels: channels, outputs: outputs, kernel: kernel, stride: stride,
                                     generator: &generator)
        let g = layer.geometry
        let shift = Self.table(outputs, &generator, scale: 1, offset: -0.5)
        let slope = Self.table(outputs, &generator, scale: 0.5, offset: -0.1)
        let bias = Self.table(outputs, &generator, scale: 1, offset: -0.5)
        let threshold = Self.table(outputs, &generator, scale: 1, offset: -0.5)
        let plain = try layer.dense(.reference)
        let epilogues = [
            BinaryEpilogue(activationShift: shift, activationSlope: slope, activationBias: bias, packThreshold: threshold),
            BinaryEpilogue(activationSlope: slope),
            BinaryEpilogue(activationShift: shift, packThreshold: threshold),
        ]
        for (index, epilogue) in epilogues.enumerated() {
            let reference = try layer.dense(.reference, epilogue: epilogue)
            var zeros = 0
            for i in 0..<g.outputCount {
                let o = i % outputs
                var v = plain.values[i]
                if let s = epilogue.activationShift { v = v + s.base[o] }
                if let a = epilogue.activationSlope { v = v > 0 ? v : a.base[o] * v }
                if let b = epilogue.activationBias { v = v + b.base[o] }
                #expect(reference.values[i] == v, "epilogue \(index) value \(i)")
                let t = epilogue.packThreshold.map { v + $0.base[o] } ?? v
                if t == 0 { zeros += 1 }
                let bit = Self.bit(reference.packed, pixel: i / outputs, channel: o, g: g, words: binaryWordCount(channels: outputs))
                #expect(bit == (t < 0), "epilogue \(index) sign \(i)")
            }
            #expect(reference.unrepresentable == zeros)
            for variant in BinaryKernelVariant.optimised {
                let optimised = try layer.dense(variant, epilogue: epilogue)
                #expect(optimised.values.map(\.bitPattern) == reference.values.map(\.bitPattern), "\(variant) epilogue \(index)")
                #expect(optimised.packed == reference.packed, "\(variant) epilogue \(index) packed")
                #expect(optimised.unrepresentable == reference.unrepresentable, "\(variant) epilogue \(index) zeros")
            }
        }
    }

    @Test("two convolutions writing channel slices of one output equal their dense runs side by side, in every variant",
          arguments: [(1, 32, 48), (3, 64, 16), (1, 128, 64)])
    func channelSlices(kernel: Int, first: Int, second: Int) throws {
        var generator = SeededGenerator(seed: 4_200 + UInt64(kernel * first + second))
        let size = 11, channels = 72
        let input = BinaryTestSupport.signedValues([2, size, size, channels], generator: &generator)
        var layers: [Layer] = []
        for outputs in [first, second] {
            let w = BinaryTestSupport.signedValues([outputs, kernel, kernel, channels], generator: &generator)
            let transform = BinaryOutputTransform(scale: (0..<outputs).map { _ in generator.nextUnitFloat() * 0.3 - 0.1 },
                                                  bias: (0..<outputs).map { _ in generator.nextUnitFloat() - 0.5 })
            let residual = BinaryTestSupport.signedValues([2, size, size, outputs], generator: &generator).scalars
            layers.append(Layer(input: try PackedActivations(packing: input, margin: kernel / 2), weights: try PackedWeights(packing: w),
                                stride: 1, padding: kernel / 2, transform: transform, residual: residual))
        }
        let total = first + second, words = binaryWordCount(channels: total)
        let pixels = 2 * size * size
        for variant in [BinaryKernelVariant.reference] + BinaryKernelVariant.optimised {
            var values = [Float](repeating: .nan, count: pixels * total)
            // Stale bits everywhere: the slice at channel 0 clears its pixels' words, the next one only sets bits.
            var packed = [UInt64](repeating: .max, count: 2 * (size + 2) * (size + 2) * words)
            for i in 0..<2 {
                for y in 0..<(size + 2) {
                    for x in 0..<(size + 2) where y == 0 || x == 0 || y == size + 1 || x == size + 1 {
                        for j in 0..<words { packed[((i * (size + 2) + y) * (size + 2) + x) * words + j] = 0 }
                    }
                }
            }
            for (index, layer) in layers.enumerated() {
                let threshold = Self.table(layer.weights.outputChannels, &generator, scale: 0.2, offset: -0.1)
                let epilogue = BinaryEpilogue(packThreshold: threshold, outputStride: total, packedStride: words,
                                              packedChannel: index == 0 ? 0 : first)
                _ = try layer.run(variant, epilogue: epilogue, values: &values, channel: index == 0 ? 0 : first, packed: &packed)
                let dense = try layer.dense(variant, epilogue: BinaryEpilogue(packThreshold: threshold))
                let o = layer.weights.outputChannels, offset = index == 0 ? 0 : first
                let g = layer.geometry
                for q in 0..<pixels {
                    for c in 0..<o {
                        #expect(values[q * total + offset + c].bitPattern == dense.values[q * o + c].bitPattern,
                                "\(variant) slice \(index) pixel \(q) channel \(c)")
                        #expect(Self.bit(packed, pixel: q, channel: offset + c, g: g, words: words)
                                == Self.bit(dense.packed, pixel: q, channel: c, g: g, words: binaryWordCount(channels: o)),
                                "\(variant) slice \(index) sign \(q) \(c)")
                    }
                }
            }
            // Bits past the channels stay clear, and so does the border.
            let g = layers[0].geometry
            for q in 0..<pixels {
                for c in total..<(64 * words) { #expect(!Self.bit(packed, pixel: q, channel: c, g: g, words: words)) }
            }
            let interior = Set((0..<pixels).map { q -> Int in
                let ox = q % size, row = q / size
                return ((row / size * (size + 2) + row % size + 1) * (size + 2) + ox + 1) * words
            })
            for start in stride(from: 0, to: packed.count, by: words) where !interior.contains(start) {
                #expect(packed[start..<start + words].allSatisfy { $0 == 0 }, "\(variant) border word \(start)")
            }
        }
    }

    /// Every optimised variant against the reference, bit for bit, for one layer and epilogue: floats,
    /// packed signs (or none) and the ±0/NaN count, with or without a residual.
    static func expectVariantsMatch(_ layer: Layer, transform: BinaryOutputTransform, epilogue: BinaryEpilogue, residual: Bool,
                                    packs: Bool, label: String) throws {
        let g = layer.geometry
        func run(_ variant: BinaryKernelVariant) throws -> Result {
            let prepared = try PreparedBinaryConvolution(weights: layer.weights, stride: layer.stride, padding: layer.padding,
                                                         transform: transform, variant: variant)
            var values = [Float](repeating: .nan, count: g.outputCount)
            var packed = [UInt64](repeating: 0, count: g.batch * (g.outputHeight + 2) * (g.outputWidth + 2)
                                                    * binaryWordCount(channels: g.outputChannels))
            let rows = g.batch * g.outputHeight
            var count = 0
            layer.input.words.withUnsafeBufferPointer { x in
                layer.residual.withUnsafeBufferPointer { r in
                    values.withUnsafeMutableBufferPointer { v in
                        packed.withUnsafeMutableBufferPointer { p in
                            for range in [0..<rows / 3, rows / 3..<rows] where !range.isEmpty {
                                count += prepared.run(
                                    input: x.baseAddress!, inputMargin: layer.input.margin, batch: g.batch, height: g.inputHeight,
                                    width: g.inputWidth, residual: residual ? r.baseAddress : nil, output: v.baseAddress!,
                                    packedOutput: packs ? p.baseAddress : nil, outputMargin: packs ? 1 : 0, epilogue: epilogue,
                                    rows: range)
                            }
                        }
                    }
                }
            }
            return Result(values: values, packed: packed, unrepresentable: count)
        }
        let reference = try run(.reference)
        for variant in BinaryKernelVariant.optimised {
            let optimised = try run(variant)
            #expect(optimised.values.map(\.bitPattern) == reference.values.map(\.bitPattern), "\(variant) \(label) values")
            #expect(optimised.packed == reference.packed, "\(variant) \(label) packed")
            #expect(optimised.unrepresentable == reference.unrepresentable, "\(variant) \(label) zeros")
        }
    }

    @Test("the specialised epilogues (ReActNet's full one, without packing, any other set of steps), the 1×1 path and the tabulated 3×3 padding corrections (tiles touching one side, two, all four): every variant equals the reference bit for bit",
          arguments: [(13, 32, 48, 1, 1), (13, 100, 16, 1, 1), (7, 64, 32, 1, 1), (29, 128, 32, 1, 1), (12, 20, 32, 1, 1),
                      (14, 256, 32, 1, 1), (14, 32, 32, 3, 1), (16, 64, 48, 3, 2), (9, 72, 16, 3, 1), (8, 40, 16, 3, 1),
                      (7, 32, 32, 3, 1), (29, 96, 16, 3, 2),
                      (14, 320, 48, 1, 1), (7, 512, 16, 1, 1), (28, 200, 32, 1, 1)])
    func specialisedEpilogues(size: Int, channels: Int, outputs: Int, kernel: Int, stride: Int) throws {
        var generator = SeededGenerator(seed: 4_300 + UInt64(size * channels + outputs * kernel))
        let layer = try Layer.random(batch: 2, size: size, channels: channels, outputs: outputs, kernel: kernel, stride: stride,
                                     generator: &generator)
        let shift = Self.table(outputs, &generator, scale: 1, offset: -0.5)
        let slope = Self.table(outputs, &generator, scale: 0.5, offset: -0.1)
        let bias = Self.table(outputs, &generator, scale: 1, offset: -0.5)
        let threshold = Self.table(outputs, &generator, scale: 1, offset: -0.5)
        let reactnet = BinaryEpilogue(activationShift: shift, activationSlope: slope, activationBias: bias, packThreshold: threshold)
        let plain = layer.transform
        let clamped = BinaryOutputTransform(scale: plain.scale, bias: plain.bias, clamp: -0.25...0.5)
        // ReActNet's layers (packing with a threshold, and the last one without), then other mixtures.
        try Self.expectVariantsMatch(layer, transform: plain, epilogue: reactnet, residual: true, packs: true, label: "reactnet")
        try Self.expectVariantsMatch(layer, transform: plain, epilogue: reactnet, residual: true, packs: false, label: "last")
        try Self.expectVariantsMatch(layer, transform: clamped, epilogue: BinaryEpilogue(activationSlope: slope), residual: false,
                                     packs: true, label: "clamp, slope")
        try Self.expectVariantsMatch(layer, transform: BinaryOutputTransform(scale: plain.scale), epilogue: BinaryEpilogue(),
                                     residual: false, packs: true, label: "scale only")
        // Exact zeros before the sign: scale 0 and no bias on every other channel, a threshold of ±0 or
        // the negated bias elsewhere, so that `v + threshold` is ±0 for many values.
        let scale = (0..<outputs).map { $0 % 2 == 0 ? 0 : plain.scale[$0] }
        let zeroBias = (0..<outputs).map { $0 % 2 == 0 ? Float(0) : plain.bias![$0] }
        let zeroThreshold = AlignedBuffer((0..<outputs).map { o -> Float in o % 4 == 0 ? -0.0 : (o % 2 == 0 ? 0 : -zeroBias[o]) })
        try Self.expectVariantsMatch(layer, transform: BinaryOutputTransform(scale: scale, bias: zeroBias),
                                     epilogue: BinaryEpilogue(packThreshold: zeroThreshold), residual: false, packs: true,
                                     label: "zeros")
    }

    @Test("a pooled output is the 2×2 average pool of the dense output (summed from +0 in window order, times 0.25), bit for bit in every variant; the signs stay per pixel",
          arguments: [(16, 32, 32, 1), (12, 100, 48, 1), (14, 320, 16, 1), (28, 64, 32, 1), (10, 64, 16, 3)])
    func pooledOutput(size: Int, channels: Int, outputs: Int, kernel: Int) throws {
        var generator = SeededGenerator(seed: 4_400 + UInt64(size * channels + outputs))
        let layer = try Layer.random(batch: 2, size: size, channels: channels, outputs: outputs, kernel: kernel, stride: 1,
                                     generator: &generator)
        let g = layer.geometry
        let epilogue = BinaryEpilogue(activationShift: Self.table(outputs, &generator, scale: 1, offset: -0.5),
                                      activationSlope: Self.table(outputs, &generator, scale: 0.5, offset: -0.1),
                                      activationBias: Self.table(outputs, &generator, scale: 1, offset: -0.5),
                                      packThreshold: Self.table(outputs, &generator, scale: 1, offset: -0.5))
        let dense = try layer.dense(.reference, epilogue: epilogue)
        let (ph, pw) = (g.outputHeight / 2, g.outputWidth / 2)
        var expected = [Float](repeating: 0, count: g.batch * ph * pw * outputs)
        for n in 0..<g.batch {
            for y in 0..<ph {
                for x in 0..<pw {
                    for o in 0..<outputs {
                        var sum: Float = 0
                        for (dy, dx) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                            sum += dense.values[((n * g.outputHeight + 2 * y + dy) * g.outputWidth + 2 * x + dx) * outputs + o]
                        }
                        expected[((n * ph + y) * pw + x) * outputs + o] = sum * 0.25
                    }
                }
            }
        }
        var pooling = epilogue
        pooling.poolsOutput = true
        for variant in [BinaryKernelVariant.reference] + BinaryKernelVariant.optimised {
            let prepared = try PreparedBinaryConvolution(weights: layer.weights, stride: 1, padding: layer.padding,
                                                         transform: layer.transform, variant: variant)
            var values = [Float](repeating: .nan, count: expected.count)
            var packed = [UInt64](repeating: 0, count: dense.packed.count)
            let rows = g.batch * g.outputHeight
            var count = 0
            layer.input.words.withUnsafeBufferPointer { x in
                layer.residual.withUnsafeBufferPointer { r in
                    values.withUnsafeMutableBufferPointer { v in
                        packed.withUnsafeMutableBufferPointer { p in
                            // Two calls on whole pairs of rows, then the default split.
                            for range in [0..<rows / 4 * 2, rows / 4 * 2..<rows] where !range.isEmpty {
                                count += prepared.run(
                                    input: x.baseAddress!, inputMargin: layer.input.margin, batch: g.batch, height: g.inputHeight,
                                    width: g.inputWidth, residual: r.baseAddress, output: v.baseAddress!,
                                    packedOutput: p.baseAddress, outputMargin: 1, epilogue: pooling, rows: range)
                            }
                        }
                    }
                }
            }
            #expect(values.map(\.bitPattern) == expected.map(\.bitPattern), "\(variant) pooled values")
            #expect(packed == dense.packed, "\(variant) packed")
            #expect(count == dense.unrepresentable, "\(variant) zeros")
            var whole = [Float](repeating: .nan, count: expected.count)
            layer.input.words.withUnsafeBufferPointer { x in
                layer.residual.withUnsafeBufferPointer { r in
                    whole.withUnsafeMutableBufferPointer { v in
                        _ = prepared.run(input: x.baseAddress!, inputMargin: layer.input.margin, batch: g.batch,
                                         height: g.inputHeight, width: g.inputWidth, residual: r.baseAddress,
                                         output: v.baseAddress!, epilogue: pooling)
                    }
                }
            }
            #expect(whole.map(\.bitPattern) == expected.map(\.bitPattern), "\(variant) pooled values, default row split")
        }
    }
}
