import Foundation

/// Wall-clock timing of benchmark bodies.
enum BenchClock {
    /// Monotonic time in seconds.
    static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    /// Runs `body` once to warm up, then repeatedly until both `minimumRuns` runs and
    /// `minimumSeconds` have passed; returns the fastest run in seconds (the least disturbed by the
    /// other processes of a shared machine).
    static func fastest(minimumRuns: Int, minimumSeconds: Double, _ body: () -> Void) -> Double {
        body()
        var best = Double.infinity
        var runs = 0
        let start = now()
        while runs < minimumRuns || now() - start < minimumSeconds {
            let t0 = now()
            body()
            best = min(best, now() - t0)
            runs += 1
        }
        return best
    }
}
