import BNN
import Dispatch
import Foundation

/// The result of ``Throughput/measure(files:transform:threadCount:repetitions:seed:)``.
public struct ThroughputMeasurement: Sendable {
    /// Images decoded and transformed.
    public let images: Int
    /// Threads used.
    public let threadCount: Int
    /// Wall-clock seconds of the timed part.
    public let seconds: Double
    /// CPU seconds (user + system, all threads of the process) of the timed part.
    public let cpuSeconds: Double
    /// `images / seconds`.
    public var imagesPerSecond: Double { Double(images) / seconds }
    /// `imagesPerSecond / threadCount`.
    public var imagesPerSecondPerThread: Double { imagesPerSecond / Double(threadCount) }
    /// `images / cpuSeconds`: the rate one fully used core sustains, robust to other load on the machine.
    public var imagesPerCPUSecond: Double { Double(images) / cpuSeconds }
}

/// Measures the per-image cost of the data pipeline (decode + transform + normalise), without disk I/O.
public enum Throughput {
    /// Reads `files` into memory, then decodes and transforms each `repetitions` times on `threadCount`
    /// threads (files split evenly), and returns the images per second (wall clock and per CPU second) of
    /// the timed part.
    ///
    /// - Throws: ``BNNDataError/unreadableFile(path:reason:)`` or ``BNNDataError/badFile(path:reason:)`` for
    ///   a file that cannot be used, ``BNNDataError/invalidConfiguration(_:)`` for no files or threads < 1.
    public static func measure(files: [String], transform: any ImageTransform = TrainingTransform(),
                               threadCount: Int, repetitions: Int = 1, seed: UInt64 = 0) throws -> ThroughputMeasurement {
        guard !files.isEmpty, threadCount >= 1, repetitions >= 1 else {
            throw BNNDataError.invalidConfiguration("throughput needs files, threads ≥ 1 and repetitions ≥ 1")
        }
        var payloads = [ImagePayload]()
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw BNNDataError.unreadableFile(path: file, reason: "cannot read the file")
            }
            payloads.append(.encoded([UInt8](data)))
        }
        let processor = SampleProcessor(transform: transform)
        let size = processor.sampleFloatCount
        let failures = FailureBox()
        let jobs = payloads.count * repetitions
        let startCPU = processCPUSeconds()
        let start = DispatchTime.now().uptimeNanoseconds
        DispatchQueue.concurrentPerform(iterations: threadCount) { thread in
            let output = UnsafeMutableBufferPointer<Float>.allocate(capacity: size)
            defer { output.deallocate() }
            for job in stride(from: thread, to: jobs, by: threadCount) {
                let file = job % payloads.count
                var generator = SeededGenerator.derived(seed: seed, UInt64(job / payloads.count), UInt64(file))
                do {
                    try processor.process(payloads[file], name: files[file], generator: &generator, into: output)
                } catch {
                    failures.set(error)
                    return
                }
            }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let cpuSeconds = processCPUSeconds() - startCPU
        if let error = failures.error { throw error }
        return ThroughputMeasurement(images: jobs, threadCount: threadCount, seconds: seconds, cpuSeconds: cpuSeconds)
    }

    /// User + system CPU time of this process so far.
    private static func processCPUSeconds() -> Double {
        var usage = rusage()
        #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// The first error thrown on any thread.
    private final class FailureBox: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var error: Error?
        func set(_ value: Error) {
            lock.lock()
            if error == nil { error = value }
            lock.unlock()
        }
    }
}
