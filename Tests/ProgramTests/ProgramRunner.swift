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
        try #require(FileManager.default.isExecutableFile(atPath: tool.path), "\(tool.lastPathComponent) not built at \(tool.path)")
        let process = Process()
        process.executableURL = tool
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["BNN_THREADS"] = "1"
        process.environment = environment
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, message)
    }
}
