// bnn-bench: CPU peak probes and the convolutions of Bi-Real Net 34, float vs bit-packed binary.
// Sections: kernels (the default), models, training, gemm and data; see BenchOptions for the flags.
import BNN
import BNNKernels
import Foundation

let availableThreads = Parallel.threadCount
let options: BenchOptions
do {
    options = try BenchOptions.parse(Array(CommandLine.arguments.dropFirst()), allThreads: availableThreads)
} catch BenchOptionsError.helpRequested {
    print(BenchOptions.usage)
    exit(0)
} catch {
    FileHandle.standardError.write(Data("\(error)\n\(BenchOptions.usage)\n".utf8))
    exit(2)
}

func progress(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

if options.section == .models {
    do {
        let report = try ModelLatencyBenchmark(options: options).run(progress: progress)
        print(options.json ? try report.json() : report.table())
    } catch {
        FileHandle.standardError.write(Data("bnn-bench: \(error)\n".utf8))
        exit(1)
    }
    exit(0)
}

switch options.section {
case .training:
    // As birealnet-train does: freed step buffers are kept for the next step.
    AllocatorTuning.keepFreedMemory()
    let rows = TrainingBenchmark(threads: options.threads, quick: options.quick, precisions: options.precisions,
                                 modelFilter: options.layerFilter,
                                 batches: options.batchesGiven ? options.batches : nil).run(progress: progress)
    print(options.json ? try BenchFormatting.json(rows) : TrainingBenchmark.table(rows))
    exit(0)
case .data:
    guard let directory = options.imagesDirectory else {
        FileHandle.standardError.write(Data("bnn-bench: the data section needs --images DIR\n".utf8))
        exit(2)
    }
    do {
        let rows = try DataPipelineBenchmark(directory: directory, threads: options.threads, quick: options.quick)
            .run(progress: progress)
        print(options.json ? try BenchFormatting.json(rows) : DataPipelineBenchmark.table(rows))
    } catch {
        FileHandle.standardError.write(Data("bnn-bench: \(error)\n".utf8))
        exit(1)
    }
    exit(0)
case .kernels, .models, .gemm:
    break
}

progress("bnn-bench: probing peaks…")
let peaks = options.threads.map { PeakProbes.measure(threads: $0, seconds: options.quick ? 0.05 : 0.2) }
if options.section == .gemm {
    let rows = GEMMBenchmark(threads: options.threads, quick: options.quick, peaks: peaks).run(progress: progress)
    print(options.json ? try BenchFormatting.json(rows) : GEMMBenchmark.table(rows, peaks: peaks))
    exit(0)
}
do {
    let measurements = try ConvolutionBenchmark(options: options).run(progress: progress)
    let report = BenchReport(kernels: KernelSelection.activeFamily,
                             binaryKernel: String(cString: bnn_binary_kernel_name()), availableThreads: availableThreads,
                             peaks: peaks, measurements: measurements)
    print(options.json ? try report.json() : report.table())
    if let path = options.svgPath {
        try BenchChart.svg(measurements).write(toFile: path, atomically: true, encoding: .utf8)
        progress("bnn-bench: wrote \(path)")
    }
} catch {
    FileHandle.standardError.write(Data("bnn-bench: \(error)\n".utf8))
    exit(1)
}
