/// Element-wise conversion between the raw little-endian bytes of a safetensors tensor and Swift
/// values: any dtype to `Float`, integer dtypes to `Int64`, and back.
///
/// Every function works on whole buffers (no per-element allocation) and reads unaligned data, since
/// the format does not promise alignment.
enum SafeTensorsCodec {
    /// Decodes `output.count` elements of `dtype` from `bytes` into `Float`s.
    ///
    /// Floating-point formats widen exactly (`F64` rounds to nearest, overflowing to infinity);
    /// integers convert to the nearest `Float`; `BOOL` gives 1 for any non-zero byte, else 0.
    /// - Precondition: `bytes.count == output.count * dtype.byteSize`.
    static func decodeFloats(_ bytes: UnsafeRawBufferPointer, dtype: SafeTensorsDType,
                             into output: UnsafeMutableBufferPointer<Float>) {
        precondition(bytes.count == output.count * dtype.byteSize, "SafeTensorsCodec: byte count mismatch")
        let count = output.count
        switch dtype {
        case .float32:
            #if _endian(little)
            if count > 0 { UnsafeMutableRawBufferPointer(output).copyMemory(from: bytes) }
            #else
            for i in 0..<count {
                output[i] = Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
            }
            #endif
        case .float16:
            for i in 0..<count {
                let bits = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                output[i] = HalfPrecision.float(fromHalf: bits)
            }
        case .bfloat16:
            for i in 0..<count {
                let bits = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                output[i] = HalfPrecision.float(fromBFloat16: bits)
            }
        case .float64:
            for i in 0..<count {
                let bits = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))
                output[i] = Float(Double(bitPattern: bits))
            }
        case .int64:
            for i in 0..<count {
                output[i] = Float(Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)))
            }
        case .int32:
            for i in 0..<count {
                output[i] = Float(Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
            }
        case .uint8:
            for i in 0..<count { output[i] = Float(bytes[i]) }
        case .bool:
            for i in 0..<count { output[i] = bytes[i] == 0 ? 0 : 1 }
        }
    }

    /// Decodes `output.count` elements of an integer or boolean `dtype` from `bytes` into `Int64`s.
    ///
    /// - Precondition: `dtype` is not floating-point and `bytes.count == output.count * dtype.byteSize`.
    static func decodeIntegers(_ bytes: UnsafeRawBufferPointer, dtype: SafeTensorsDType,
                               into output: UnsafeMutableBufferPointer<Int64>) {
        precondition(!dtype.isFloatingPoint, "SafeTensorsCodec: \(dtype) is not an integer dtype")
        precondition(bytes.count == output.count * dtype.byteSize, "SafeTensorsCodec: byte count mismatch")
        let count = output.count
        switch dtype {
        case .int64:
            for i in 0..<count { output[i] = Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)) }
        case .int32:
            for i in 0..<count {
                output[i] = Int64(Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
            }
        case .uint8:
            for i in 0..<count { output[i] = Int64(bytes[i]) }
        case .bool:
            for i in 0..<count { output[i] = bytes[i] == 0 ? 0 : 1 }
        case .float32, .float16, .bfloat16, .float64:
            preconditionFailure("SafeTensorsCodec: \(dtype) is not an integer dtype")
        }
    }

    /// Encodes `values` as `dtype` into `output`; returns the index of the first value an integer
    /// dtype cannot hold exactly (fraction, out of range, NaN), or `nil` when all were written.
    ///
    /// Floating-point targets round to nearest even (`F16` and `BF16` overflow to infinity).
    /// - Precondition: `output.count == values.count * dtype.byteSize`.
    static func encode(_ values: UnsafeBufferPointer<Float>, as dtype: SafeTensorsDType,
                       into output: UnsafeMutableRawBufferPointer) -> Int? {
        precondition(output.count == values.count * dtype.byteSize, "SafeTensorsCodec: byte count mismatch")
        switch dtype {
        case .float32:
            #if _endian(little)
            if !values.isEmpty { output.copyMemory(from: UnsafeRawBufferPointer(values)) }
            #else
            for (i, v) in values.enumerated() { output.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self) }
            #endif
        case .float16:
            for (i, v) in values.enumerated() {
                output.storeBytes(of: HalfPrecision.half(from: v).littleEndian, toByteOffset: 2 * i, as: UInt16.self)
            }
        case .bfloat16:
            for (i, v) in values.enumerated() {
                output.storeBytes(of: HalfPrecision.bfloat16(from: v).littleEndian, toByteOffset: 2 * i, as: UInt16.self)
            }
        case .float64:
            for (i, v) in values.enumerated() {
                output.storeBytes(of: Double(v).bitPattern.littleEndian, toByteOffset: 8 * i, as: UInt64.self)
            }
        case .int64, .int32, .uint8, .bool:
            // Integer targets: each value must be a whole number; the integer encoder checks the range.
            var integers = [Int64](repeating: 0, count: values.count)
            for (i, v) in values.enumerated() {
                guard let n = Int64(exactly: v) else { return i }
                integers[i] = n
            }
            return integers.withUnsafeBufferPointer { encode($0, as: dtype, into: output) }
        }
        return nil
    }

    /// Encodes `values` as the integer or boolean `dtype` into `output`; returns the index of the
    /// first value out of the dtype's range, or `nil` when all were written.
    ///
    /// - Precondition: `dtype` is not floating-point and `output.count == values.count * dtype.byteSize`.
    static func encode(_ values: UnsafeBufferPointer<Int64>, as dtype: SafeTensorsDType,
                       into output: UnsafeMutableRawBufferPointer) -> Int? {
        precondition(!dtype.isFloatingPoint, "SafeTensorsCodec: \(dtype) is not an integer dtype")
        precondition(output.count == values.count * dtype.byteSize, "SafeTensorsCodec: byte count mismatch")
        switch dtype {
        case .int64:
            for (i, v) in values.enumerated() { output.storeBytes(of: v.littleEndian, toByteOffset: 8 * i, as: Int64.self) }
        case .int32:
            for (i, v) in values.enumerated() {
                guard let n = Int32(exactly: v) else { return i }
                output.storeBytes(of: n.littleEndian, toByteOffset: 4 * i, as: Int32.self)
            }
        case .uint8:
            for (i, v) in values.enumerated() {
                guard let n = UInt8(exactly: v) else { return i }
                output[i] = n
            }
        case .bool:
            for (i, v) in values.enumerated() {
                guard v == 0 || v == 1 else { return i }
                output[i] = UInt8(v)
            }
        case .float32, .float16, .bfloat16, .float64:
            preconditionFailure("SafeTensorsCodec: \(dtype) is not an integer dtype")
        }
        return nil
    }
}
