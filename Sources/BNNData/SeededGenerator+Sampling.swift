import BNN

extension SeededGenerator {
    /// A generator for one (seed, epoch, item) triple: the words are mixed with SplitMix64 steps, so
    /// neighbouring items draw unrelated streams and the result never depends on thread scheduling.
    static func derived(seed: UInt64, _ a: UInt64, _ b: UInt64, _ c: UInt64 = 0) -> SeededGenerator {
        var h = mix(seed)
        h = mix(h ^ a)
        h = mix(h ^ b)
        h = mix(h ^ c)
        return SeededGenerator(seed: h)
    }

    private static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform `Double` in `[0, 1)` with 53 random bits.
    mutating func nextUnitDouble() -> Double { Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0) }

    /// A uniform `Double` in `[lower, upper)`.
    mutating func uniform(_ lower: Double, _ upper: Double) -> Double { lower + (upper - lower) * nextUnitDouble() }

    /// A uniform integer in `0 ..< bound` (bound > 0), unbiased (Lemire's multiply-and-reject).
    mutating func nextIndex(below bound: Int) -> Int {
        precondition(bound > 0, "nextIndex: empty range")
        let n = UInt64(bound)
        var product = next().multipliedFullWidth(by: n)
        if product.low < n {
            let threshold = (0 &- n) % n
            while product.low < threshold { product = next().multipliedFullWidth(by: n) }
        }
        return Int(product.high)
    }

    /// A uniform integer in `lower ... upper` (inclusive), like Python's `random.randint`.
    mutating func integer(_ lower: Int, through upper: Int) -> Int { lower + nextIndex(below: upper - lower + 1) }

    /// A Gamma(shape, 1) sample (Marsaglia–Tsang; shapes below 1 boosted by U^(1/shape)).
    mutating func nextGamma(shape: Double) -> Double {
        precondition(shape > 0, "nextGamma: shape must be positive")
        if shape < 1 {
            let u = max(nextUnitDouble(), .leastNormalMagnitude)
            return nextGamma(shape: shape + 1) * _pow(u, 1 / shape)
        }
        let d = shape - 1.0 / 3.0
        let c = 1 / (9 * d).squareRoot()
        while true {
            var x: Double, v: Double
            repeat {
                x = Double(nextNormal())
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = nextUnitDouble()
            if u < 1 - 0.0331 * x * x * x * x { return d * v }
            if _log(max(u, .leastNormalMagnitude)) < 0.5 * x * x + d * (1 - v + _log(v)) { return d * v }
        }
    }

    /// A Beta(alpha, beta) sample as X / (X + Y) with X ~ Gamma(alpha), Y ~ Gamma(beta).
    mutating func nextBeta(_ alpha: Double, _ beta: Double) -> Double {
        let x = nextGamma(shape: alpha)
        let y = nextGamma(shape: beta)
        return x + y > 0 ? x / (x + y) : 0.5
    }
}

import Foundation
@inline(__always) func _log(_ x: Double) -> Double { Foundation.log(x) }
@inline(__always) func _pow(_ x: Double, _ y: Double) -> Double { Foundation.pow(x, y) }
@inline(__always) func _exp(_ x: Double) -> Double { Foundation.exp(x) }
