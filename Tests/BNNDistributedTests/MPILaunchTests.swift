import BNNDistributed
import Foundation
import Testing

/// Runs `bnn-mpi check` under `mpirun -np 2`: real processes, real MPI. Needs the build trait `MPI`
/// (`swift test --traits MPI`) and Open MPI's `mpirun`; otherwise the test is skipped with the reason.
@Suite struct MPILaunchTests {
    @Test(.enabled(if: DistributedRuntime.isAvailable,
                   "built without the MPI trait: run `swift test --traits MPI` with libopenmpi-dev installed"),
          .enabled(if: MPILaunchTests.executable(named: "mpirun") != nil,
                   "mpirun is not on PATH: apt-get install openmpi-bin"))
    func twoRanksMatchOneProcessUnderMPIRun() throws {
        let mpirun = try #require(Self.executable(named: "mpirun"))
        let tool = Self.buildDirectory.appendingPathComponent("bnn-mpi")
        try #require(FileManager.default.isExecutableFile(atPath: tool.path), "bnn-mpi not built at \(tool.path)")
        var arguments = ["-np", "2", "--oversubscribe"]
        if getuid() == 0 { arguments.append("--allow-run-as-root") }
        let process = Process()
        process.executableURL = mpirun
        process.arguments = arguments + ["-x", "BNN_THREADS=1", tool.path, "check", "--steps", "3"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        print(output)
        #expect(process.terminationStatus == 0)
        #expect(output.contains("bnn-mpi check: PASS"))
    }

    /// The folder of the running test binary, where SwiftPM also puts the package's executables.
    static var buildDirectory: URL {
        URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]).deletingLastPathComponent()
    }

    static func executable(named name: String) -> URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { URL(fileURLWithPath: String($0)).appendingPathComponent(name) }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }
}
