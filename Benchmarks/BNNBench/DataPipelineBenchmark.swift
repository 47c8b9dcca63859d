import BNN
import BNNData
import Foundation

/// Decoded-and-augmented images per second of the data pipeline (libjpeg-turbo decode with DCT scaling,
/// RandomResizedCrop or resize + centre crop, flip, normalisation; `train+RA` adds bicubic resizing and
/// RandAugment `rand-m9-mstd0.5-inc1`) on a folder of JPEG files, read into
/// memory first so disk speed does not count.
///
/// Make ImageNet-sized test files with `tools/fixtures/make_benchmark_jpegs.py DIR 200`; compare with
/// Pillow + torchvision on the same files with `tools/yardsticks/pillow_pipeline.py DIR` (`--randaugment`
/// for timm's RandAugment with bicubic).
struct DataPipelineBenchmark {
    /// One measured configuration.
    struct Row: Encodable {
        /// `training` or `evaluation` transform.
        var transform: String
        /// Decoding threads.
        var threads: Int
        /// Images per second, wall clock.
        var imagesPerSecond: Double
        /// Images per CPU second: what one fully used core sustains (robust to other load).
        var imagesPerCPUSecond: Double
    }

    let directory: String
    let threads: [Int]
    let quick: Bool

    /// Measures both transforms on every thread count.
    ///
    /// - Throws: ``BNNDataError`` when the folder has no JPEG/PNG files or one cannot be decoded.
    func run(progress: (String) -> Void) throws -> [Row] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let files = names.filter { ImageFolder.imageExtensions.contains(($0 as NSString).pathExtension.lowercased()) }
            .sorted().map { (directory as NSString).appendingPathComponent($0) }
        guard !files.isEmpty else {
            throw BNNDataError.invalidConfiguration("--images \(directory): no .jpeg/.jpg/.png files found")
        }
        var rows: [Row] = []
        let randAugment = TrainingTransform(interpolation: .fixed(.bicubic), autoAugment: try AutoAugment(
            parsing: "rand-m9-mstd0.5-inc1", imageSize: 224, interpolation: .fixed(.bicubic)))
        for (name, transform) in [("training", TrainingTransform() as any ImageTransform),
                                  ("train+RA", randAugment as any ImageTransform),
                                  ("evaluation", EvaluationTransform() as any ImageTransform)] {
            for threadCount in threads {
                progress("bnn-bench: data pipeline, \(name) transform, \(threadCount) thread(s), \(files.count) files…")
                let m = try Throughput.measure(files: files, transform: transform, threadCount: threadCount,
                                               repetitions: quick ? 1 : 3)
                rows.append(Row(transform: name, threads: threadCount, imagesPerSecond: m.imagesPerSecond,
                                imagesPerCPUSecond: m.imagesPerCPUSecond))
            }
        }
        return rows
    }

    /// The rows as a readable table.
    static func table(_ rows: [Row]) -> String {
        var lines = ["Data pipeline (decode + augment + normalise, files in memory)",
                     "transform    threads   images/s   images per CPU-second"]
        for r in rows {
            lines.append(String(format: "%-12@ %7d %10.0f %23.0f", r.transform as NSString, r.threads, r.imagesPerSecond,
                                r.imagesPerCPUSecond))
        }
        return lines.joined(separator: "\n")
    }
}
