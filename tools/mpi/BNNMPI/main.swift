// bnn-mpi: checks and measures data-parallel training; run it under mpirun (see Documentation/Distributed.md).
//
//   mpirun -np 2 .build/release/bnn-mpi check    # 2 ranks × batch 8 equal 1 rank × batch 16
//   mpirun -np 2 .build/release/bnn-mpi bench    # scaling 1 → 2 processes, all-reduce bandwidth
import BNNDistributed
import Foundation

let arguments = Array(CommandLine.arguments.dropFirst())
let usage = """
    usage: mpirun -np N bnn-mpi check [--steps S]
           mpirun -np N bnn-mpi bench [--steps S] [--batch B] [--json FILE] [--full-model]
                                      [--overlap] [--bf16] [--bucket-kib K] [--no-bandwidth]
    check: trains a tiny Bi-Real Net for S steps (default 3) with batch 8 per rank, with and without
           synchronised BatchNorm, and compares the weights with one process training on batch 8·N.
    bench: times training steps of a small Bi-Real Net on 1 rank and on all N ranks (1 thread each),
           and all-reduce bandwidth, including Bi-Real Net 34's gradient; --full-model also times a
           Bi-Real Net 34 training step at 224×224 on one core (about a minute). --overlap adds runs with
           the all-reduce overlapped with the backward pass, --bf16 runs with bfloat16 gradients (with
           and, with --overlap, without overlap); --bucket-kib sets the bucket size (default 4096).
    check --overlap: the same check with the all-reduce overlapped with the backward pass.
    """

/// The integer after `--name`, or `defaultValue`.
func option(_ name: String, default defaultValue: Int) -> Int {
    guard let index = arguments.firstIndex(of: "--\(name)") else { return defaultValue }
    guard index + 1 < arguments.count, let value = Int(arguments[index + 1]), value > 0 else {
        FileHandle.standardError.write(Data("error: --\(name) needs a positive integer\n".utf8))
        exit(2)
    }
    return value
}

guard let command = arguments.first, ["check", "bench"].contains(command) else {
    print(usage)
    exit(arguments.contains("--help") ? 0 : 2)
}
guard DistributedRuntime.isAvailable else {
    print("bnn-mpi: SKIPPED: this build has no MPI (build with `swift build -c release --traits MPI`)")
    exit(77)
}
do {
    let world = try DistributedRuntime.world()
    let passed: Bool
    if command == "check" {
        passed = try EquivalenceCheck(communicator: world, steps: option("steps", default: 3),
                                      overlap: arguments.contains("--overlap")).run()
    } else {
        let json = arguments.firstIndex(of: "--json").flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
        let overlap = arguments.contains("--overlap"), bf16 = arguments.contains("--bf16")
        typealias Configuration = ScalingBenchmark.Configuration
        var configurations = [Configuration(), Configuration(synchronizedBatchNorm: true)]
        if overlap { configurations += [Configuration(overlap: true), Configuration(synchronizedBatchNorm: true, overlap: true)] }
        if bf16 { configurations.append(Configuration(precision: .bfloat16)) }
        if bf16 && overlap { configurations.append(Configuration(overlap: true, precision: .bfloat16)) }
        try ScalingBenchmark(communicator: world, steps: option("steps", default: 8), batch: option("batch", default: 32),
                             jsonPath: json, measureFullModel: arguments.contains("--full-model"), configurations: configurations,
                             bucketBytes: option("bucket-kib", default: 4096) << 10,
                             measureBandwidth: !arguments.contains("--no-bandwidth")).run()
        passed = true
    }
    DistributedRuntime.finalize()
    exit(passed ? 0 : 1)
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    if let world = try? DistributedRuntime.world(), world.worldSize > 1 { world.abort(exitCode: 1) }
    exit(1)
}
