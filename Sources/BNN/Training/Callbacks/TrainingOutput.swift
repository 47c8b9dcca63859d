import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a training callback writes text: standard output, standard error, or any closure (tests
/// capture the text this way).
///
/// ``isTerminal`` tells a ``ProgressDisplay`` whether it may redraw a line in place, and ``columns``
/// how wide that line may be.
public struct TrainingOutput {
    /// Whether the text goes to an interactive terminal (redrawing with `\r` works); for the standard
    /// streams, a terminal whose `TERM` is not `dumb`.
    public let isTerminal: Bool
    private let columnsProvider: () -> Int?
    private let sink: (String) -> Void

    /// Creates an output that hands every piece of text to `write`.
    ///
    /// - Parameters:
    ///   - isTerminal: Whether the text is shown on a terminal.
    ///   - columns: The terminal width in characters, when known.
    ///   - write: Receives the text exactly as it should appear, newlines and `\r` included.
    public init(isTerminal: Bool = false, columns: Int? = nil, write: @escaping (String) -> Void) {
        self.isTerminal = isTerminal
        self.columnsProvider = { columns }
        self.sink = write
    }

    private init(stream: UnsafeMutablePointer<FILE>, descriptor: Int32) {
        isTerminal = isatty(descriptor) != 0 && ProcessInfo.processInfo.environment["TERM"] != "dumb"
        columnsProvider = { TrainingOutput.terminalColumns(descriptor) }
        sink = { text in
            fputs(text, stream)
            fflush(stream)
        }
    }

    /// Standard output, through C `stdout` so the text stays in order with `print`.
    public static var standardOutput: TrainingOutput { TrainingOutput(stream: stdout, descriptor: STDOUT_FILENO) }

    /// Standard error.
    public static var standardError: TrainingOutput { TrainingOutput(stream: stderr, descriptor: STDERR_FILENO) }

    /// The terminal width in characters now (it may change while the program runs), when known.
    public var columns: Int? { columnsProvider() }

    /// Writes `text` as is.
    public func write(_ text: String) { sink(text) }

    /// The width of the terminal on `descriptor`, or `$COLUMNS`, when known.
    private static func terminalColumns(_ descriptor: Int32) -> Int? {
        var size = winsize()
        if ioctl(descriptor, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return ProcessInfo.processInfo.environment["COLUMNS"].flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil }
    }
}
