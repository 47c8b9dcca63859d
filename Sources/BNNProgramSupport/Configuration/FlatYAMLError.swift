import Foundation

/// A problem with a flat YAML configuration file. Every message starts with `file:line:` (or `file:`
/// when no line applies), as compilers do, so editors can jump to it.
public enum FlatYAMLError: Error, Equatable, Sendable, CustomStringConvertible, LocalizedError {
    /// The file could not be read, or is not UTF-8.
    case unreadable(file: String, reason: String)
    /// A line is not a flat `key: value` line: indentation (nested YAML), a missing colon, an
    /// unterminated quote or list, or a YAML feature this parser does not support.
    case syntax(file: String, line: Int, message: String)
    /// A key appears twice.
    case duplicateKey(file: String, key: String, line: Int, firstLine: Int)
    /// A value does not have the type a key expects; `found` is the value as written.
    case typeMismatch(file: String, key: String, line: Int, expected: String, found: String)
    /// A required key is absent.
    case missingKey(file: String, key: String)
    /// A key is not one the program knows; `suggestion` is the closest known key, if any is close.
    case unknownKey(file: String, key: String, line: Int, suggestion: String?)

    /// The message shown to the user, e.g. `birealnet34.yaml:31: beta expects a list of 2 numbers, got 'abc'`.
    public var description: String {
        switch self {
        case let .unreadable(file, reason):
            return "\(file): cannot read the configuration: \(reason)"
        case let .syntax(file, line, message):
            return "\(file):\(line): \(message)"
        case let .duplicateKey(file, key, line, firstLine):
            return "\(file):\(line): duplicate key '\(key)' (first set on line \(firstLine))"
        case let .typeMismatch(file, key, line, expected, found):
            return "\(file):\(line): \(key) expects \(expected), got '\(found)'"
        case let .missingKey(file, key):
            return "\(file): missing required key '\(key)'"
        case let .unknownKey(file, key, line, suggestion):
            return "\(file):\(line): unknown key '\(key)'" + (suggestion.map { " (did you mean '\($0)'?)" } ?? "")
        }
    }

    /// The same text as ``description``.
    public var errorDescription: String? { description }
}
