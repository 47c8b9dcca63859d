import Foundation
import Testing
@testable import BNN

/// A fresh directory under the system temporary directory, removed after `body`.
func withSafeTensorsTestDirectory<R>(_ body: (URL) throws -> R) throws -> R {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("bnn-safetensors-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try body(directory)
}

/// The URL of a committed fixture in `Fixtures/safetensors`.
func safeTensorsFixture(_ name: String) throws -> URL {
    try #require(Bundle.module.url(forResource: name, withExtension: "safetensors", subdirectory: "Fixtures/safetensors"),
                 "fixture \(name).safetensors missing; run tools/fixtures/make_safetensors_fixture.py")
}

/// The bytes of a safetensors file with the given header text and data area; the header length
/// field is `headerLength` when given, else the true length.
private func safeTensorsBytes(header: String, data: [UInt8] = [], headerLength: UInt64? = nil) -> Data {
    let json = Data(header.utf8)
    var length = (headerLength ?? UInt64(json.count)).littleEndian
    var result = Data(bytes: &length, count: 8)
    result.append(json)
    result.append(contentsOf: data)
    return result
}

private func open(_ data: Data) throws -> SafeTensorsFile {
    try SafeTensorsFile(data: data, source: "corrupt")
}

@Suite("SafeTensors")
struct SafeTensorsTests {
    // MARK: Reading files written by Python's safetensors

    @Test("every dtype of a file written by Python's safetensors reads back exactly")
    func pythonFixture() throws {
        let file = try SafeTensorsFile(contentsOf: try safeTensorsFixture("dtypes"))
        #expect(file.metadata == ["format": "pt", "epoch": "3", "note": "bnn fixture é"])
        #expect(Set(file.tensorNames) == ["f32", "f16", "bf16", "f64", "i64", "i32", "u8", "bool", "scalar", "empty"])

        let f32 = try file.tensor("f32")
        #expect(try file.info("f32").dtype == .float32)
        #expect(f32.shape == [2, 3])
        #expect(f32.scalars.map(\.bitPattern) == [0, (-0.0 as Float).bitPattern, Float.leastNonzeroMagnitude.bitPattern,
                                                   Float.greatestFiniteMagnitude.bitPattern, (0.1 as Float).bitPattern,
                                                   (-7.25 as Float).bitPattern])

        let f16 = try file.tensor("f16")
        #expect(try file.info("f16").dtype == .float16)
        #expect(f16.shape == [10])
        #expect(f16.scalars == [0, 0, 1, -2.5, 65504, 0x1p-24, 0x1p-14, 0.333251953125, .infinity, -.infinity])
        #expect(f16.scalars[1].sign == .minus)
        let f16Bytes = [UInt8](try file.bytes("f16"))
        #expect(f16Bytes.count == 20)
        #expect(Array(f16Bytes[0..<6]) == [0x00, 0x00, 0x00, 0x80, 0x00, 0x3C])

        let bf16 = try file.tensor("bf16")
        #expect(try file.info("bf16").dtype == .bfloat16)
        #expect(bf16.scalars == [1, -1.5, 3.140625, 0x1p127, 0x1p-133])

        #expect(try file.info("f64").dtype == .float64)
        #expect(try file.tensor("f64").scalars == [0.1, -.infinity, 2.5])  // -1e300 overflows Float

        #expect(try file.integers("i64") == [0, -1, 1 << 40, .max, .min])
        #expect(try file.tensor("i64").scalars == [0, -1, 0x1p40, 0x1p63, -0x1p63])
        #expect(try file.info("i32").shape == [2, 2])
        #expect(try file.integers("i32") == [7, -8, Int64(Int32.max), Int64(Int32.min)])
        #expect(try file.integers("u8") == [0, 1, 127, 255])
        #expect(try file.tensor("u8").scalars == [0, 1, 127, 255])
        #expect(try file.integers("bool") == [1, 0, 1])
        #expect(try file.tensor("bool").scalars == [1, 0, 1])

        let scalar = try file.tensor("scalar")
        #expect(scalar.shape == [] && scalar.scalars == [42])
        let empty = try file.tensor("empty")
        #expect(empty.shape == [0, 3] && empty.count == 0)
    }

    @Test("asking for an absent tensor or integers of a float tensor names the tensor")
    func lookupErrors() throws {
        let url = try safeTensorsFixture("dtypes")
        let file = try SafeTensorsFile(contentsOf: url)
        #expect(throws: SafeTensorsError.tensorNotFound(file: url.path, tensor: "nope")) { try file.tensor("nope") }
        #expect(throws: SafeTensorsError.dtypeMismatch(file: url.path, tensor: "f16", expected: "an integer or BOOL dtype",
                                                       found: .float16)) { try file.integers("f16") }
        let missing = url.deletingLastPathComponent().appendingPathComponent("absent.safetensors")
        #expect(throws: SafeTensorsError.self) { try SafeTensorsFile(contentsOf: missing) }
    }

    // MARK: Writing

    @Test("a written file reads back with every dtype, metadata, alignment and padding")
    func writeAndRead() throws {
        try withSafeTensorsTestDirectory { directory in
            let url = directory.appendingPathComponent("all.safetensors")
            var writer = SafeTensorsWriter(metadata: ["epoch": "7", "json": #"{"a":[1,2]}"#, "path": "a/b"])
            let values = Tensor(shape: [2, 3], scalars: [0.1, -2, 3.5, 1e-3, -0.0, 65520])
            writer.add(values, named: "f32")
            writer.add(values, named: "f16", as: .float16)
            writer.add(values, named: "bf16", as: .bfloat16)
            writer.add(values, named: "f64", as: .float64)
            writer.add(Tensor(shape: [3], scalars: [-3, 0, 16_777_216]), named: "i32", as: .int32)
            writer.add(integers: [.max, .min, 5], shape: [3], named: "i64")
            writer.add(integers: [12345], shape: [], named: "scalar")
            writer.add(integers: [0, 255, 7], shape: [3], named: "u8", as: .uint8)
            writer.add(Tensor(shape: [2], scalars: [1, 0]), named: "bool", as: .bool)
            writer.add(bytes: Data([0xAA, 0x55, 0x0F]), shape: [3], dtype: .uint8, named: "packed")
            writer.add(Tensor(zeros: [0, 4]), named: "empty")
            try writer.write(to: url)

            let raw = try Data(contentsOf: url)
            let headerLength = raw.withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
            #expect(headerLength % 8 == 0)
            let file = try SafeTensorsFile(contentsOf: url)
            for info in file.tensors { #expect((8 + headerLength + info.dataOffsets.lowerBound) % info.dtype.byteSize == 0) }
            #expect(file.metadata == ["epoch": "7", "json": #"{"a":[1,2]}"#, "path": "a/b"])
            #expect(try file.tensor("f32") == values)
            #expect(try file.tensor("f16").scalars == [0.0999755859375, -2, 3.5, 0.0010004043579101562, -0.0, .infinity])
            #expect(try file.tensor("bf16").scalars == [0.10009765625, -2, 3.5, 0.00099945068359375, -0.0, 65536])
            #expect(try file.tensor("f64") == values)
            #expect(try file.info("f64").dtype == .float64)
            #expect(try file.integers("i32") == [-3, 0, 16_777_216])
            #expect(try file.integers("i64") == [.max, .min, 5])
            #expect(try file.info("scalar").shape == [])
            #expect(try file.integers("scalar") == [12345])
            #expect(try file.integers("u8") == [0, 255, 7])
            #expect(try file.integers("bool") == [1, 0])
            #expect(try file.bytes("packed") == Data([0xAA, 0x55, 0x0F]))
            #expect(try file.tensor("empty").shape == [0, 4])
        }
    }

    @Test("the writer is deterministic and large tensors stream in chunks")
    func deterministicAndChunked() throws {
        try withSafeTensorsTestDirectory { directory in
            var generator = SeededGenerator(seed: 11)
            let big = Tensor(randomNormal: [300_001], generator: &generator)
            var writer = SafeTensorsWriter(metadata: ["z": "1", "a": "2"])
            writer.add(big, named: "big", as: .float16)
            writer.add(big, named: "big32")
            let first = directory.appendingPathComponent("one.safetensors")
            let second = directory.appendingPathComponent("two.safetensors")
            try writer.write(to: first)
            try writer.write(to: second)
            #expect(try Data(contentsOf: first) == Data(contentsOf: second))
            let file = try SafeTensorsFile(contentsOf: first)
            #expect(try file.tensor("big32") == big)
            let halves = try file.tensor("big")
            #expect(halves.count == big.count)
            #expect(zip(halves.scalars, big.scalars).allSatisfy { abs($0 - $1) <= abs($1) * 0x1p-11 + 0x1p-25 })
        }
    }

    @Test("invalid tensors are rejected and nothing is left on disk")
    func writerValidation() throws {
        try withSafeTensorsTestDirectory { directory in
            let url = directory.appendingPathComponent("bad.safetensors")
            let path = url.path
            func expectWriteFails(_ expected: SafeTensorsError, _ configure: (inout SafeTensorsWriter) -> Void) {
                var writer = SafeTensorsWriter()
                configure(&writer)
                #expect(throws: expected) { try writer.write(to: url) }
                #expect(!FileManager.default.fileExists(atPath: path))
            }
            let ones = Tensor(repeating: 1, shape: [2])
            expectWriteFails(.duplicateTensor(file: path, tensor: "a")) { $0.add(ones, named: "a"); $0.add(ones, named: "a") }
            expectWriteFails(.invalidTensorEntry(file: path, tensor: "__metadata__", reason: "the name is reserved for metadata")) {
                $0.add(ones, named: "__metadata__")
            }
            expectWriteFails(.invalidTensorEntry(file: path, tensor: "", reason: "tensor names must not be empty")) {
                $0.add(ones, named: "")
            }
            expectWriteFails(.byteCountMismatch(file: path, tensor: "i", dtype: .int64, shape: [3], expected: 24, found: 16)) {
                $0.add(integers: [1, 2], shape: [3], named: "i")
            }
            expectWriteFails(.byteCountMismatch(file: path, tensor: "b", dtype: .int32, shape: [2], expected: 8, found: 3)) {
                $0.add(bytes: Data([1, 2, 3]), shape: [2], dtype: .int32, named: "b")
            }
            expectWriteFails(.dtypeMismatch(file: path, tensor: "i", expected: "an integer or BOOL dtype for integer values",
                                            found: .float32)) {
                $0.add(integers: [1], shape: [1], named: "i", as: .float32)
            }
            expectWriteFails(.valueNotRepresentable(file: path, tensor: "n", dtype: .int64, index: 1, value: 0.5)) {
                $0.add(Tensor(shape: [2], scalars: [1, 0.5]), named: "n", as: .int64)
            }
            expectWriteFails(.valueNotRepresentable(file: path, tensor: "u", dtype: .uint8, index: 0, value: 256)) {
                $0.add(Tensor(shape: [1], scalars: [256]), named: "u", as: .uint8)
            }
            expectWriteFails(.valueNotRepresentable(file: path, tensor: "w", dtype: .int32, index: 0, value: 0x1p40)) {
                $0.add(integers: [1 << 40], shape: [1], named: "w", as: .int32)
            }
            expectWriteFails(.valueNotRepresentable(file: path, tensor: "big", dtype: .int64, index: 0, value: 0x1p63)) {
                $0.add(Tensor(shape: [1], scalars: [0x1p63]), named: "big", as: .int64)
            }
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            #expect(leftovers.isEmpty)
        }
    }

    @Test("a failed write leaves the old file intact and no temporary file behind")
    func atomicWrite() throws {
        try withSafeTensorsTestDirectory { directory in
            let url = directory.appendingPathComponent("model.safetensors")
            var good = SafeTensorsWriter(metadata: ["version": "1"])
            good.add(Tensor(repeating: 2, shape: [3]), named: "w")
            try good.write(to: url)
            let before = try Data(contentsOf: url)

            // The failure happens while streaming the last tensor, after the temporary file exists.
            var bad = SafeTensorsWriter(metadata: ["version": "2"])
            bad.add(Tensor(repeating: 3, shape: [1000]), named: "w")
            bad.add(Tensor(shape: [2], scalars: [1, .nan]), named: "count", as: .int64)
            #expect(throws: SafeTensorsError.self) { try bad.write(to: url) }
            #expect(try Data(contentsOf: url) == before)
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["model.safetensors"])

            // A target that cannot be replaced (a directory) fails at the rename step.
            let blocked = directory.appendingPathComponent("blocked.safetensors")
            try FileManager.default.createDirectory(at: blocked, withIntermediateDirectories: false)
            #expect(throws: SafeTensorsError.self) { try good.write(to: blocked) }
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
                    == ["blocked.safetensors", "model.safetensors"])

            let nowhere = directory.appendingPathComponent("missing/x.safetensors")
            #expect(throws: SafeTensorsError.self) { try good.write(to: nowhere) }
        }
    }

    // MARK: Corrupt files

    @Test("empty and truncated files report their size")
    func truncated() throws {
        #expect(throws: SafeTensorsError.fileTooShort(file: "corrupt", byteCount: 0)) { try open(Data()) }
        #expect(throws: SafeTensorsError.fileTooShort(file: "corrupt", byteCount: 5)) { try open(Data([1, 0, 0, 0, 0])) }
        let fixture = try Data(contentsOf: try safeTensorsFixture("dtypes"))
        // Cut inside the header.
        #expect(throws: SafeTensorsError.headerLengthBeyondFile(file: "corrupt", headerLength: 664, availableBytes: 92)) {
            try open(fixture.prefix(100))
        }
        // Cut inside the data: the last tensor (bool, bytes 146..<149) no longer fits.
        #expect(throws: SafeTensorsError.offsetsOutOfRange(file: "corrupt", tensor: "bool", begin: 146, end: 149,
                                                           dataByteCount: 147)) {
            try open(fixture.prefix(fixture.count - 2))
        }
    }

    @Test("a header length beyond the file or above the limit is rejected")
    func headerLength() throws {
        let header = #"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#
        #expect(throws: SafeTensorsError.headerLengthBeyondFile(file: "corrupt", headerLength: 1 << 40, availableBytes: 54)) {
            try open(safeTensorsBytes(header: header, data: [1], headerLength: 1 << 40))
        }
        #expect(throws: SafeTensorsError.headerLengthBeyondFile(file: "corrupt", headerLength: .max, availableBytes: 54)) {
            try open(safeTensorsBytes(header: header, data: [1], headerLength: .max))
        }
        let limit = SafeTensorsFile.maximumHeaderLength
        var huge = safeTensorsBytes(header: "{}", headerLength: UInt64(limit + 1))
        huge.append(Data(count: limit))
        #expect(throws: SafeTensorsError.headerTooLarge(file: "corrupt", headerLength: UInt64(limit + 1), limit: limit)) {
            try open(huge)
        }
    }

    @Test("headers that are not a UTF-8 JSON object are rejected")
    func badJSON() throws {
        func expectInvalidHeader(_ bytes: Data) {
            #expect {
                try open(bytes)
            } throws: { error in
                guard case .invalidHeader(file: "corrupt", reason: _)? = error as? SafeTensorsError else { return false }
                return true
            }
        }
        expectInvalidHeader(safeTensorsBytes(header: #"{"a": {"dtype": "F32", "shape": [1], "#))
        expectInvalidHeader(safeTensorsBytes(header: "[1, 2, 3]"))
        expectInvalidHeader(safeTensorsBytes(header: ""))
        expectInvalidHeader(safeTensorsBytes(header: "{}}}"))
        var notUTF8 = safeTensorsBytes(header: #"{"\#u{FF}": 1}"#)
        notUTF8[10] = 0xFF
        notUTF8[11] = 0xFE
        expectInvalidHeader(notUTF8)
        expectInvalidHeader(Data([2, 0, 0, 0, 0, 0, 0, 0, 0, 0]))
        // Deep nesting must be rejected, not overflow the stack.
        let depth = 100_000
        #expect(throws: SafeTensorsError.self) {
            try open(safeTensorsBytes(header: #"{"a":"# + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}"))
        }
        // A valid empty file: no tensors, no data.
        #expect(try open(safeTensorsBytes(header: "{}")).tensors.isEmpty)
        #expect(try open(safeTensorsBytes(header: "{}    ")).metadata.isEmpty)
    }

    @Test("offsets outside the data, overlapping, with gaps or not covering the data are rejected")
    func badOffsets() throws {
        let eight = [UInt8](repeating: 1, count: 8)
        #expect(throws: SafeTensorsError.offsetsOutOfRange(file: "corrupt", tensor: "a", begin: 4, end: 12, dataByteCount: 8)) {
            try open(safeTensorsBytes(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, data: eight))
        }
        #expect(throws: SafeTensorsError.offsetsNotContiguous(file: "corrupt", tensor: "b", begin: 2, expectedBegin: 4)) {
            try open(safeTensorsBytes(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"#
                                      + #""b":{"dtype":"I32","shape":[1],"data_offsets":[2,6]}}"#, data: eight))
        }
        #expect(throws: SafeTensorsError.offsetsNotContiguous(file: "corrupt", tensor: "b", begin: 5, expectedBegin: 4)) {
            try open(safeTensorsBytes(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"#
                                      + #""b":{"dtype":"U8","shape":[3],"data_offsets":[5,8]}}"#, data: eight))
        }
        #expect(throws: SafeTensorsError.offsetsNotContiguous(file: "corrupt", tensor: "a", begin: 4, expectedBegin: 0)) {
            try open(safeTensorsBytes(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: eight))
        }
        #expect(throws: SafeTensorsError.dataNotCovered(file: "corrupt", coveredByteCount: 4, dataByteCount: 8)) {
            try open(safeTensorsBytes(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: eight))
        }
        #expect {
            try open(safeTensorsBytes(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#, data: eight))
        } throws: { error in
            guard case .invalidTensorEntry(file: "corrupt", tensor: "a", reason: let reason)? = error as? SafeTensorsError else {
                return false
            }
            return reason.contains("data_offsets")
        }
    }

    @Test("a byte span that does not match shape × dtype size is rejected")
    func wrongDTypeSize() throws {
        let eight = [UInt8](repeating: 1, count: 8)
        #expect(throws: SafeTensorsError.byteCountMismatch(file: "corrupt", tensor: "a", dtype: .float64, shape: [2],
                                                           expected: 16, found: 8)) {
            try open(safeTensorsBytes(header: #"{"a":{"dtype":"F64","shape":[2],"data_offsets":[0,8]}}"#, data: eight))
        }
        #expect(throws: SafeTensorsError.byteCountMismatch(file: "corrupt", tensor: "a", dtype: .float16, shape: [3],
                                                           expected: 6, found: 8)) {
            try open(safeTensorsBytes(header: #"{"a":{"dtype":"F16","shape":[3],"data_offsets":[0,8]}}"#, data: eight))
        }
        #expect(throws: SafeTensorsError.invalidTensorEntry(file: "corrupt", tensor: "a",
                                                            reason: "shape [4611686018427387904, 4] has more elements than can be addressed")) {
            try open(safeTensorsBytes(header: #"{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}}"#,
                                      data: eight))
        }
    }

    @Test("unknown dtypes and malformed entries or metadata are rejected")
    func badEntries() throws {
        let four = [UInt8](repeating: 0, count: 4)
        #expect(throws: SafeTensorsError.unknownDType(file: "corrupt", tensor: "a", found: "F8_E4M3")) {
            try open(safeTensorsBytes(header: #"{"a":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[0,4]}}"#, data: four))
        }
        let malformed = [
            #"{"a":[1,2]}"#,
            #"{"a":{"shape":[4],"data_offsets":[0,4]}}"#,
            #"{"a":{"dtype":5,"shape":[4],"data_offsets":[0,4]}}"#,
            #"{"a":{"dtype":"U8","data_offsets":[0,4]}}"#,
            #"{"a":{"dtype":"U8","shape":[-4],"data_offsets":[0,4]}}"#,
            #"{"a":{"dtype":"U8","shape":[1.5],"data_offsets":[0,4]}}"#,
            #"{"a":{"dtype":"U8","shape":["4"],"data_offsets":[0,4]}}"#,
            #"{"a":{"dtype":"U8","shape":4,"data_offsets":[0,4]}}"#,
            #"{"a":{"dtype":"U8","shape":[4],"data_offsets":[0]}}"#,
            #"{"a":{"dtype":"U8","shape":[4],"data_offsets":[-1,3]}}"#,
            #"{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,1e30]}}"#,
        ]
        for header in malformed {
            #expect {
                try open(safeTensorsBytes(header: header, data: four))
            } throws: { error in
                guard case .invalidTensorEntry(file: "corrupt", tensor: "a", reason: _)? = error as? SafeTensorsError else { return false }
                return true
            }
        }
        for metadata in [#""x""#, #"{"k":1}"#, #"{"k":{"n":"v"}}"#, "null"] {
            #expect {
                try open(safeTensorsBytes(header: #"{"__metadata__":\#(metadata)}"#))
            } throws: { error in
                guard case .invalidMetadata(file: "corrupt", reason: _)? = error as? SafeTensorsError else { return false }
                return true
            }
        }
    }

    @Test("random corruptions of a valid file never crash: each either opens fully or throws")
    func fuzz() throws {
        let fixture = try Data(contentsOf: try safeTensorsFixture("dtypes"))
        var generator = SeededGenerator(seed: 2024)
        var opened = 0
        var rejected = 0
        for trial in 0..<1500 {
            var bytes = [UInt8](fixture)
            switch trial % 3 {
            case 0:
                for _ in 0..<(1 + Int(generator.next() % 4)) {
                    bytes[Int(generator.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: generator.next())
                }
            case 1:
                // Corrupt a digit of the header (shapes, offsets) or the length field.
                let position = Int(generator.next() % 680)
                bytes[position] = position < 8 ? UInt8(truncatingIfNeeded: generator.next())
                                               : UInt8(ascii: "0") + UInt8(generator.next() % 10)
            default:
                bytes = Array(bytes.prefix(Int(generator.next() % UInt64(bytes.count + 1))))
            }
            do {
                let file = try SafeTensorsFile(data: Data(bytes), source: "fuzz")
                for info in file.tensors {
                    #expect(try file.tensor(info.name).shape == info.shape)
                    if !info.dtype.isFloatingPoint { #expect(try file.integers(info.name).count == info.elementCount) }
                    #expect(try file.bytes(info.name).count == info.dataOffsets.count)
                }
                opened += 1
            } catch is SafeTensorsError {
                rejected += 1
            }
        }
        #expect(opened > 0 && rejected > 0)
    }

    // MARK: 16-bit conversions

    @Test("every half-precision bit pattern survives half → Float → half")
    func halfRoundTrip() {
        for bits in 0...UInt16.max {
            let value = HalfPrecision.float(fromHalf: bits)
            if value.isNaN {
                #expect(HalfPrecision.float(fromHalf: HalfPrecision.half(from: value)).isNaN)
            } else if HalfPrecision.half(from: value) != bits {
                Issue.record("half 0x\(String(bits, radix: 16)) → \(value) → 0x\(String(HalfPrecision.half(from: value), radix: 16))")
            }
            let widened = HalfPrecision.float(fromBFloat16: bits)
            if !widened.isNaN && HalfPrecision.bfloat16(from: widened) != bits {
                Issue.record("bfloat16 0x\(String(bits, radix: 16)) does not round-trip")
            }
        }
    }

    @Test("narrowing rounds to nearest even, overflows to infinity and keeps NaN")
    func halfRounding() {
        // 1 + 2^-11 is halfway between 1 and the next half (1 + 2^-10): ties to even gives 1.
        #expect(HalfPrecision.half(from: 1 + 0x1p-11) == 0x3C00)
        #expect(HalfPrecision.half(from: 1 + 0x1p-11 + 0x1p-20) == 0x3C01)
        #expect(HalfPrecision.half(from: 1 + 3 * 0x1p-11) == 0x3C02)  // tie between 0x3C01 and 0x3C02 → even
        #expect(HalfPrecision.half(from: 65520) == 0x7C00)             // halfway above 65504 → infinity
        #expect(HalfPrecision.half(from: 65519) == 0x7BFF)
        #expect(HalfPrecision.half(from: 0x1p-25) == 0)                 // tie with 0 → even (0)
        #expect(HalfPrecision.half(from: 0x1p-25 + 0x1p-40) == 1)
        #expect(HalfPrecision.half(from: 3 * 0x1p-25) == 2)             // tie between 1 and 2 → 2
        #expect(HalfPrecision.half(from: -0x1p-30) == 0x8000)
        #expect(HalfPrecision.half(from: 0x1p-14 - 0x1p-25) == 0x0400)  // rounds up into the smallest normal
        #expect(HalfPrecision.half(from: .nan) & 0x7E00 == 0x7E00)
        #expect(HalfPrecision.bfloat16(from: 1 + 0x1p-8) == 0x3F80)
        #expect(HalfPrecision.bfloat16(from: 1 + 3 * 0x1p-8) == 0x3F82)
        #expect(HalfPrecision.bfloat16(from: .greatestFiniteMagnitude) == 0x7F80)
        #expect(HalfPrecision.float(fromBFloat16: HalfPrecision.bfloat16(from: .nan)).isNaN)
        #expect(HalfPrecision.float(fromBFloat16: HalfPrecision.bfloat16(from: -.infinity)) == -.infinity)
    }

    #if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
    @Test("narrowing to half agrees with the platform's Float16 on random values")
    func halfMatchesFloat16() {
        var generator = SeededGenerator(seed: 5)
        for trial in 0..<20000 {
            var bits = UInt32(truncatingIfNeeded: generator.next())
            if trial % 2 == 0 {
                // Exponents 2^-30 ... 2^17: half subnormals, normals and overflow.
                bits = (bits & 0x807F_FFFF) | (UInt32(97 + generator.next() % 48) << 23)
            }
            let value = Float(bitPattern: bits)
            guard !value.isNaN else { continue }
            let expected = Float16(value).bitPattern
            if HalfPrecision.half(from: value) != expected {
                Issue.record("\(value): 0x\(String(HalfPrecision.half(from: value), radix: 16)) != 0x\(String(expected, radix: 16))")
            }
        }
    }
    #endif
}
