import Foundation
import Testing

/// Runs the real `birealnet-train` executable on hostile input (issue 13): each case checks the exit
/// status (2 for a usage error, 1 for a file or data problem; see `ExitCode`) and that the message
/// names the flag, key or path. None of them trains: every case is refused before the first batch.
@Suite struct TrainProgramTests {
    /// The exit status and standard error of `birealnet-train arguments`.
    static func run(_ arguments: [String]) throws -> (status: Int32, message: String) {
        let tool = ProgramRunner.buildDirectory.appendingPathComponent("birealnet-train")
        return try ProgramRunner.run(tool, arguments)
    }

    static func directory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bnn-program-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func aStrayPositionalArgumentIsAUsageError() throws {
        let (status, message) = try Self.run(["--epochs", "1", "extra.yaml"])
        #expect(status == 2)
        #expect(message.contains("unexpected argument 'extra.yaml'"), "\(message)")
    }

    @Test func conflictingFlagsAreAUsageErrorNamingBoth() throws {
        let (status, message) = try Self.run(["--resume", "auto", "--weights", "w.safetensors"])
        #expect(status == 2)
        #expect(message.contains("--resume auto and --weights w.safetensors cannot be used together"), "\(message)")
    }

    @Test func evaluateWithoutWeightsIsRefused() throws {
        let (status, message) = try Self.run(["--evaluate"])
        #expect(status == 2)
        #expect(message.contains("--evaluate needs --weights"), "\(message)")
    }

    @Test func aMissingDataFolderIsNamed() throws {
        let root = try Self.directory()
        defer { try? FileManager.default.removeItem(at: root) }
        let missing = root.appendingPathComponent("no-such-dataset").path
        let (status, message) = try Self.run(["--data", missing, "--run-dir", root.appendingPathComponent("run").path])
        #expect(status == 1 || status == 2)
        #expect(message.contains(missing), "\(message)")
    }

    @Test func anExistingRunIsNotOverwritten() throws {
        let root = try Self.directory()
        defer { try? FileManager.default.removeItem(at: root) }
        let last = root.appendingPathComponent("last.safetensors")
        try Data("old run".utf8).write(to: last)
        let (status, message) = try Self.run(["--run-dir", root.path, "--epochs", "1", "--train-samples", "8", "--val-samples", "8", "--batch-size", "4"])
        #expect(status == 2)
        #expect(message.contains("already holds a run") && message.contains("--resume auto"), "\(message)")
        #expect(try Data(contentsOf: last) == Data("old run".utf8))
    }

    @Test func contradictoryConfigurationKeysNameTheKeyAndValue() throws {
        let root = try Self.directory()
        defer { try? FileManager.default.removeItem(at: root) }
        let config = root.appendingPathComponent("bad.yaml")
        try "base_lr: 0.001\nmin_lr: 0.01\n".write(to: config, atomically: true, encoding: .utf8)
        let run = ["--run-dir", root.appendingPathComponent("run").path, "--epochs", "1", "--train-samples", "8", "--val-samples", "8", "--batch-size", "4"]
        let (status, message) = try Self.run(["--config", config.path] + run)
        #expect(status == 2)
        #expect(message.contains("min_lr 0.01 (\(config.path):2: min_lr = 0.01) is larger than base_lr 0.001 (\(config.path):1"), "\(message)")

        try "resume: auto\n".write(to: config, atomically: true, encoding: .utf8)
        let conflict = try Self.run(["--config", config.path, "--weights", "w.safetensors"] + run)
        #expect(conflict.status == 2)
        #expect(conflict.message.contains("\(config.path):1: resume = auto and --weights w.safetensors cannot be used together"), "\(conflict.message)")

        try "data_url: /a\ndata: /b\n".write(to: config, atomically: true, encoding: .utf8)
        let aliases = try Self.run(["--config", config.path] + run)
        #expect(aliases.status == 2)
        #expect(aliases.message.contains("data = /b contradicts") && aliases.message.contains("data_url = /a"), "\(aliases.message)")

        try "amp_level: O1\nprecision: fp32\n".write(to: config, atomically: true, encoding: .utf8)
        let precision = try Self.run(["--config", config.path] + run)
        #expect(precision.status == 2)
        #expect(precision.message.contains("precision = fp32 contradicts") && precision.message.contains("amp_level = O1"), "\(precision.message)")
    }
}

/// A run directory on a full file system (a 1 MiB tmpfs, mounted when the tests run as root, as in
/// CI): the first checkpoint does not fit, so the run must fail naming it and leave no partial file.
@Suite struct FullDiskTests {
    static let isRoot = getuid() == 0

    /// Runs `/bin/mount` or `/bin/umount` with `arguments`; true when it succeeded.
    private static func system(_ tool: String, _ arguments: [String]) throws -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus == 0
    }

    @Test(.enabled(if: isRoot, "mounting a tmpfs needs root"))
    func aCheckpointThatDoesNotFitFailsTheRunAndLeavesNoPartialFile() throws {
        let mountPoint = try TrainProgramTests.directory()
        defer { try? FileManager.default.removeItem(at: mountPoint) }
        try #require(try Self.system("/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", mountPoint.path]),
                     "mount -t tmpfs failed although running as root")
        defer { _ = try? Self.system("/bin/umount", [mountPoint.path]) }
        let run = mountPoint.appendingPathComponent("run")
        let (status, message) = try TrainProgramTests.run([
            "--run-dir", run.path, "--epochs", "1", "--train-samples", "8", "--val-samples", "8", "--batch-size", "4",
        ])
        #expect(status == 1, "\(message)")
        #expect(message.contains(run.path) && message.contains("space"), "\(message)")   // ENOSPC, in Foundation's words
        let left = (try? FileManager.default.contentsOfDirectory(atPath: run.path)) ?? []
        #expect(!left.contains { $0.hasSuffix(".safetensors") || $0.hasSuffix(".tmp") }, "left behind: \(left)")
    }
}
