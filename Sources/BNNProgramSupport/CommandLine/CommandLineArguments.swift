import Foundation

/// A user mistake on the command line: the message names the flag and what was expected.
public struct CommandLineError: Error, CustomStringConvertible {
    /// The message shown to the user.
    public var description: String
    /// Creates an error with a message.
    public init(_ description: String) { self.description = description }
}

/// Minimal `--name value` / `--flag` parsing for the example programs, with typed accessors whose errors
/// name the flag and the expected form. Every flag must be declared, so a typo is an error, not a
/// silently ignored option.
public struct CommandLineArguments {
    /// A declared option: its name (without `--`), whether it takes a value, and its help line.
    public struct Option {
        /// The flag name without the leading dashes.
        public var name: String
        /// Whether the flag is followed by a value.
        public var takesValue: Bool
        /// One line of help.
        public var help: String
        /// Creates an option.
        public init(_ name: String, takesValue: Bool = true, help: String) {
            self.name = name
            self.takesValue = takesValue
            self.help = help
        }
    }

    /// The values given, by flag name (flags without a value map to `"true"`).
    public private(set) var values: [String: String] = [:]
    /// Arguments that are not flags, in order.
    public private(set) var positional: [String] = []
    private let options: [Option]

    /// Parses `arguments` (without the program name) against the declared `options`.
    ///
    /// - Throws: ``CommandLineError`` for an unknown flag or a missing value.
    public init(_ arguments: [String], options: [Option]) throws {
        self.options = options
        let byName = Dictionary(options.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            guard argument.hasPrefix("--") else { positional.append(argument); continue }
            var name = String(argument.dropFirst(2))
            var inlineValue: String?
            if let equals = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            guard let option = byName[name] else {
                throw CommandLineError("unknown option --\(name) (see --help)")
            }
            if option.takesValue {
                if let inlineValue { values[name] = inlineValue; continue }
                guard index < arguments.count else { throw CommandLineError("--\(name) needs a value") }
                values[name] = arguments[index]
                index += 1
            } else {
                values[name] = inlineValue ?? "true"
            }
        }
    }

    /// The usage text: one line per option.
    public func usage(program: String, summary: String) -> String {
        let width = (options.map { $0.name.count + ($0.takesValue ? 8 : 0) }.max() ?? 0) + 4
        let lines = options.map { option -> String in
            let flag = "--\(option.name)" + (option.takesValue ? " VALUE" : "")
            return "  " + flag.padding(toLength: width, withPad: " ", startingAt: 0) + option.help
        }
        return "usage: \(program) [options]\n\(summary)\n\n" + lines.joined(separator: "\n")
    }

    /// Whether a flag was given.
    public func has(_ name: String) -> Bool { values[name] != nil }

    /// The raw value of `--name`, if given.
    public func string(_ name: String) -> String? { values[name] }

    /// The value of `--name` as an integer within `range`, or `defaultValue` when absent.
    ///
    /// - Throws: ``CommandLineError`` naming the flag, the range and the value given.
    public func integer(_ name: String, default defaultValue: Int, in range: ClosedRange<Int> = Int.min...Int.max) throws -> Int {
        try integer(name, in: range) ?? defaultValue
    }

    /// The value of `--name` as an integer within `range`, or `nil` when absent.
    ///
    /// - Throws: ``CommandLineError`` naming the flag, the range and the value given.
    public func integer(_ name: String, in range: ClosedRange<Int> = Int.min...Int.max) throws -> Int? {
        guard let text = values[name] else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw CommandLineError("--\(name) expects an integer in \(range.lowerBound)...\(range.upperBound), got '\(text)'")
        }
        return value
    }

    /// The value of `--name` as a number within `range`, or `defaultValue` when absent.
    ///
    /// - Throws: ``CommandLineError`` naming the flag, the range and the value given.
    public func double(_ name: String, default defaultValue: Double,
                       in range: ClosedRange<Double> = -Double.greatestFiniteMagnitude...Double.greatestFiniteMagnitude) throws -> Double {
        guard let text = values[name] else { return defaultValue }
        guard let value = Double(text), value.isFinite, range.contains(value) else {
            throw CommandLineError("--\(name) expects a number in \(range.lowerBound)...\(range.upperBound), got '\(text)'")
        }
        return value
    }

    /// The value of `--name`, which must be one of `choices`, or `defaultValue` when absent.
    ///
    /// - Throws: ``CommandLineError`` listing the choices.
    public func choice(_ name: String, _ choices: [String], default defaultValue: String) throws -> String {
        guard let text = values[name] else { return defaultValue }
        guard choices.contains(text) else {
            throw CommandLineError("--\(name) must be one of \(choices.joined(separator: ", ")), got '\(text)'")
        }
        return text
    }

    /// The value of a required `--name`.
    ///
    /// - Throws: ``CommandLineError`` when the flag is absent.
    public func required(_ name: String) throws -> String {
        guard let text = values[name] else { throw CommandLineError("--\(name) is required (see --help)") }
        return text
    }
}

/// Runs `body`, printing a thrown error as one line on standard error and exiting with status 1 (2 for a
/// command-line mistake), so the example programs never crash on user input.
public func runCommand(_ body: () throws -> Void) -> Never {
    do {
        try body()
        exit(0)
    } catch let error as CommandLineError {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        exit(2)
    } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        exit(1)
    }
}

extension CommandLineArguments {
    /// The value of `--name` as one of the cases of a string-backed enumeration, or `defaultValue`.
    ///
    /// - Throws: ``CommandLineError`` listing the accepted values.
    public func choice<T: RawRepresentable & CaseIterable>(_ name: String, default defaultValue: T) throws -> T
    where T.RawValue == String {
        guard let text = values[name] else { return defaultValue }
        guard let value = T(rawValue: text) else {
            throw CommandLineError("--\(name) must be one of \(T.allCases.map(\.rawValue).joined(separator: ", ")), got '\(text)'")
        }
        return value
    }
}
