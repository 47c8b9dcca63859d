import BNN
import BNNKernels
import Testing

@Suite("Binary sign packing")
struct BinaryPackingTests {
    static let channelCounts = [1, 3, 63, 64, 65, 130]

    @Test("activation bits are the signs, padding bits stay clear, zeros are counted", arguments: channelCounts)
    func activations(channels: Int) throws {
        var generator = SeededGenerator(seed: UInt64(channels))
        let x = BinaryTestSupport.signedValues([2, 3, 5, channels], zeroFraction: 0.05, generator: &generator)
        let expectedZeros = x.scalars.filter { $0 == 0 }.count
        for margin in [0, 1, 2] {
            let packed = try PackedActivations(packing: x, margin: margin)
            #expect(packed.unrepresentableCount == expectedZeros)
            #expect(packed.isExact == (expectedZeros == 0))
            // −1 where x < 0, +1 elsewhere (zeros become +1).
            let signs = x.scalars.map { $0 < 0 ? Float(-1) : 1 }
            #expect(packed.unpacked().scalars == signs)
            // Unpacked with a zero border of 2 pixels around each 3×5 image.
            let padded = packed.unpacked(padding: 2)
            #expect(padded.shape == [2, 7, 9, channels])
            let expectedPadded = (0..<padded.count).map { i -> Float in
                let c = i % channels, x = i / channels % 9 - 2, y = i / (channels * 9) % 7 - 2, n = i / (channels * 63)
                return y >= 0 && y < 3 && x >= 0 && x < 5 ? signs[((n * 3 + y) * 5 + x) * channels + c] : 0
            }
            #expect(padded.scalars == expectedPadded)
            let wpp = packed.wordsPerPixel
            let spare = wpp * 64 - channels
            if spare > 0 {
                for pixel in stride(from: 0, to: packed.words.count, by: wpp) {
                    #expect(packed.words[pixel + wpp - 1] >> UInt64(64 - spare) == 0)
                }
            }
            // The margin is zero.
            let pw = 5 + 2 * margin
            if margin > 0 { #expect(packed.words[0..<(pw * wpp)].allSatisfy { $0 == 0 }) }
        }
    }

    @Test("the AVX2 and AVX-512 packers match the reference bit for bit", arguments: channelCounts)
    func packerVariants(channels: Int) throws {
        var generator = SeededGenerator(seed: 100 + UInt64(channels))
        var x = BinaryTestSupport.signedValues([37, channels], zeroFraction: 0.1, generator: &generator)
        x.scalars[0] = -0.0
        x.scalars[x.count - 1] = .nan
        let wpp = binaryWordCount(channels: channels)
        var reference = [UInt64](repeating: 1, count: 37 * wpp)
        let referenceZeros = x.withUnsafeBufferPointer { v in
            reference.withUnsafeMutableBufferPointer { bnn_binary_pack_signs_reference(v.baseAddress!, 37, Int64(channels), $0.baseAddress!) }
        }
        #expect(referenceZeros == Int64(x.scalars.filter { !($0 < 0) && !($0 > 0) }.count))
        #if arch(x86_64)
        let packers: [(BinaryKernelVariant, (UnsafePointer<Float>, Int64, Int64, UnsafeMutablePointer<UInt64>) -> Int64)] = [
            (.avx2, bnn_binary_pack_signs_avx2), (.avx512, bnn_binary_pack_signs_avx512),
        ]
        for (variant, pack) in packers where variant.isAvailable {
            var fast = [UInt64](repeating: 2, count: 37 * wpp)
            let fastZeros = x.withUnsafeBufferPointer { v in
                fast.withUnsafeMutableBufferPointer { pack(v.baseAddress!, 37, Int64(channels), $0.baseAddress!) }
            }
            #expect(fast == reference, "\(variant)")
            #expect(fastZeros == referenceZeros, "\(variant)")
        }
        #endif
    }

    @Test("weights: blocked layout holds the signs, α is mean |W|, tap popcounts count −1s", arguments: channelCounts)
    func weights(channels: Int) throws {
        var generator = SeededGenerator(seed: 200 + UInt64(channels))
        let outputs = 11
        let w = BinaryTestSupport.signedValues([outputs, 3, 2, channels], generator: &generator)
        let packed = try PackedWeights(packing: w)
        #expect(packed.zeroCount == 0 && packed.zeroMask.isEmpty)
        let wpp = packed.wordsPerTap, taps = 6, k = taps * wpp, paddedO = 16
        #expect(packed.words.count == paddedO * k)
        #expect(packed.packedByteCount == outputs * taps * wpp * 8)
        #expect(packed.floatByteCount == w.count * 4)
        for o in 0..<outputs {
            var magnitude: Double = 0
            for tap in 0..<taps {
                var negatives: Int32 = 0
                for c in 0..<channels {
                    let value = w.scalars[(o * taps + tap) * channels + c]
                    magnitude += Double(abs(value))
                    let word = packed.words[((o / 8) * k + tap * wpp + c / 64) * 8 + o % 8]
                    let bit = (word >> UInt64(c % 64)) & 1
                    #expect(bit == (value < 0 ? 1 : 0))
                    if value < 0 { negatives += 1 }
                }
                #expect(packed.tapPopcounts[tap * paddedO + o] == negatives)
            }
            let alpha = Float(magnitude / Double(taps * channels))
            #expect(abs(packed.alpha[o] - alpha) <= alpha.ulp, "α[\(o)] \(packed.alpha[o]) vs \(alpha)")
        }
        // Channels past O are zero.
        for o in outputs..<paddedO {
            for kk in 0..<k { #expect(packed.words[(kk + (o / 8) * k) * 8 + o % 8] == 0) }
        }
    }

    @Test("an empty batch packs to an empty buffer")
    func emptyBatch() throws {
        let packed = try PackedActivations(packing: Tensor(zeros: [0, 3, 3, 8]), margin: 1)
        #expect(packed.words.isEmpty && packed.isExact && packed.shape == [0, 3, 3, 8])
    }

    @Test("wrong ranks and settings throw descriptive errors")
    func errors() throws {
        #expect(throws: BinaryKernelError.shapeMismatch(tensor: "input", expected: "N×H×W×C (rank 4)", found: [2, 3])) {
            try PackedActivations(packing: Tensor(zeros: [2, 3]))
        }
        #expect(throws: BinaryKernelError.self) { try PackedWeights(packing: Tensor(zeros: [4, 3, 3])) }
        let x = try PackedActivations(packing: Tensor(repeating: 1, shape: [1, 4, 4, 8]))
        let w = try PackedWeights(packing: Tensor(repeating: -1, shape: [2, 3, 3, 9]))
        #expect(throws: BinaryKernelError.self) { try BinaryConvolution.dotProducts(x, weights: w) }
        let w8 = try PackedWeights(packing: Tensor(repeating: -1, shape: [2, 3, 3, 8]))
        #expect(throws: BinaryKernelError.invalidSetting(setting: "stride", expected: "≥ 1", found: 0)) {
            try BinaryConvolution.dotProducts(x, weights: w8, stride: 0)
        }
        #expect(throws: BinaryKernelError.self) {
            try BinaryConvolution.forward(x, weights: w8, transform: BinaryOutputTransform(scale: [1]))
        }
        let message = BinaryKernelError.shapeMismatch(tensor: "residual", expected: "[1, 2, 2, 2]", found: [1]).description
        #expect(message.contains("residual") && message.contains("[1, 2, 2, 2]") && message.contains("[1]"))
    }
}
