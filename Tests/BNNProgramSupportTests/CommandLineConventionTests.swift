import BNNProgramSupport
import Testing

/// The programs' shared command-line rules: conflicting or stray arguments are refused, one exit code per kind of outcome.
@Suite struct CommandLineConventionTests {
    static let options: [CommandLineArguments.Option] = [
        .init("input", help: ""), .init("output", help: ""), .init("evaluate", takesValue: false, help: ""),
    ]

    @Test func conflictingMissingAndStrayArgumentsAreRefused() throws {
        let both = try CommandLineArguments(["--input", "a.npy", "--evaluate"], options: Self.options)
        #expect(throws: CommandLineError.self) { try both.forbid("input", with: "evaluate", because: "one job at a time") }
        let alone = try CommandLineArguments(["--output", "b.npy"], options: Self.options)
        #expect(throws: CommandLineError.self) { try alone.require("input", for: "output") }
        try CommandLineArguments(["--input", "a.npy", "--output", "b.npy"], options: Self.options).require("input", for: "output")
        let stray = try CommandLineArguments(["--input", "a.npy", "photo.jpg"], options: Self.options)
        #expect(throws: CommandLineError.self) { try stray.rejectPositional("not read with --input") }
    }

    @Test func exitCodesFollowTheKindOfError() {
        struct FileProblem: Error {}
        #expect(exitCode(for: CommandLineError("bad flag")) == .usage)
        #expect(exitCode(for: FileProblem()) == .failure)
        #expect(exitCode(for: ProgramExit(.diverged, "diverged")) == .diverged)
        #expect([ExitCode.success, .failure, .usage, .diverged, .interrupted].map(\.rawValue) == [0, 1, 2, 3, 130])
    }
}
