/// bfloat16 numbers as their 16 bits (the upper half of a float's bits): the rounding that halves the
/// gradient bytes ``GradientAllReducer`` sends with ``GradientPrecision/bfloat16``.
///
/// Written here, in plain Swift, so that communication does not depend on any kernel library; the
/// loops are simple enough for the compiler to vectorise.
public enum BFloat16 {
    /// `value` rounded to the nearest bfloat16, ties to even; NaN stays a (quiet) NaN, values beyond
    /// the largest bfloat16 become ±infinity.
    @inlinable
    public static func bits(rounding value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return UInt16(truncatingIfNeeded: bits >> 16) | 0x0040 }
        let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: rounded >> 16)
    }

    /// The float whose upper 16 bits are `bits` (exact).
    @inlinable
    public static func float(_ bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    /// Rounds `count` floats from `source` into `target`.
    public static func round(_ source: UnsafePointer<Float>, into target: UnsafeMutablePointer<UInt16>, count: Int) {
        for i in 0..<count { target[i] = bits(rounding: source[i]) }
    }

    /// Widens `count` bfloat16 values from `source` into floats at `target`.
    public static func widen(_ source: UnsafePointer<UInt16>, into target: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { target[i] = float(source[i]) }
    }
}
