import Foundation
import Testing

/// Locates and runs the package's executables from a test.
enum ProgramRunner {
    /// The folder of the running test binary, where SwiftPM also puts the package's executables.
    static var buildDirectory: URL {
        URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]).deletingLastPathComponent()
    }

    /// Runs `tool` with `arguments` (one compute thread) and returns its exit status and standard error.
    static func run(_ tool: URL, _ arguments: [String]) throws -> (status: Int32, message: String) {
        let (status, _, message) = try runReadingOutput(tool, arguments)
        return (status, message)
    }

    /// Runs `tool` with `arguments` (one compute thread) and returns its exit status, standard output
    /// and standard error. The output goes through a temporary file, so that neither stream can fill
    /// its pipe while the other is read.
    static func runReadingOutput(_ tool: URL, _ arguments: [String]) throws -> (status: Int32, output: String, message: String) {
        try #require(FileManager.default.isExecutableFile(atPath: tool.path), "\(tool.lastPathComponent) not built at \(tool.path)")
        let process = Process()
        process.executableURL = tool
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["BNN_THREADS"] = "1"
        process.environment = environment
        let errors = Pipe()
        process.standardError = errors
        let outputURL = FileManager.default.temporaryDirectory.appendingPathComponent("bnn-program-output-\(UUID().uuidString)")
        try #require(FileManager.default.createFile(atPath: outputURL.path, contents: nil), "cannot create \(outputURL.path)")
        defer { try? FileManager.default.removeItem(at: outputURL) }
        let output = try FileHandle(forWritingTo: outputURL)
        defer { try? output.close() }
        process.standardOutput = output
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: try Data(contentsOf: outputURL), as: UTF8.self), message)
    }
}
