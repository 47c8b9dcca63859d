/// One value of a flat YAML file: a scalar or an inline list of scalars.
///
/// Plain (unquoted) scalars are typed as YAML's core schema does, plus Python's `None`:
/// `null`, `Null`, `NULL`, `~` and `None` are ``null``; `true`/`True`/`TRUE` and
/// `false`/`False`/`FALSE` are ``bool(_:)``; decimal integers are ``integer(_:)``; decimal numbers
/// with a point or an exponent (`5.`, `.5`, `0.001`, `1e-6`) and `.inf`, `-.inf`, `.nan` are
/// ``number(_:)``; anything else, and every quoted scalar, is ``string(_:)``.
public enum FlatYAMLValue: Sendable, Equatable, CustomStringConvertible {
    /// `null`, `~` or `None`.
    case null
    /// `true` or `false` in any of YAML's spellings.
    case bool(Bool)
    /// A decimal integer such as `300` or `-1`.
    case integer(Int)
    /// A floating-point number such as `5.`, `0.001` or `1e-6`.
    case number(Double)
    /// A quoted string, or a plain scalar that is nothing else.
    case string(String)
    /// An inline list `[a, b, ...]` of scalars.
    case list([FlatYAMLValue])

    /// The value as a number when it is an integer or a floating-point number.
    public var numericValue: Double? {
        switch self {
        case .integer(let value): return Double(value)
        case .number(let value): return value
        default: return nil
        }
    }

    /// The value written back as flat YAML (strings double-quoted when needed to read back the same).
    public var description: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return value ? "true" : "false"
        case .integer(let value): return String(value)
        case .number(let value):
            if value.isNaN { return ".nan" }
            if value.isInfinite { return value > 0 ? ".inf" : "-.inf" }
            return String(value)
        case .string(let value):
            guard FlatYAMLValue.needsQuotes(value) else { return value }
            var quoted = "\""
            for character in value {
                switch character {
                case "\\": quoted += "\\\\"
                case "\"": quoted += "\\\""
                case "\n": quoted += "\\n"
                case "\t": quoted += "\\t"
                default: quoted.append(character)
                }
            }
            return quoted + "\""
        case .list(let items): return "[" + items.map(\.description).joined(separator: ", ") + "]"
        }
    }

    /// Whether a string must be quoted to read back as the same string.
    private static func needsQuotes(_ value: String) -> Bool {
        value.isEmpty || value.first == " " || value.last == " " || plainScalar(value) != .string(value)
            || value.contains(where: { "#:[]{},\"'&*!|>\n\t".contains($0) })
    }

    /// Types an unquoted scalar (already trimmed) by the rules above.
    static func plainScalar(_ text: String) -> FlatYAMLValue {
        switch text {
        case "null", "Null", "NULL", "~", "None": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .number(.infinity)
        case "-.inf", "-.Inf", "-.INF": return .number(-.infinity)
        case ".nan", ".NaN", ".NAN": return .number(.nan)
        default: break
        }
        var digits = Substring(text)
        if digits.first == "-" || digits.first == "+" { digits = digits.dropFirst() }
        guard let first = digits.first, first.isASCII, first.isNumber || first == "." else { return .string(text) }
        if digits.allSatisfy({ $0.isASCII && $0.isNumber }) {
            // Integers too large for Int are kept as numbers rather than rejected.
            if let value = Int(text) { return .integer(value) }
            return Double(text).map { .number($0) } ?? .string(text)
        }
        return isDecimalNumber(digits) ? Double(text).map { .number($0) } ?? .string(text) : .string(text)
    }

    /// Whether `text` (without sign) is `digits[.digits][e[±]digits]` with at least one digit before
    /// the exponent — rejecting what `Double.init` also accepts but YAML does not (`inf`, `0x1p3`).
    private static func isDecimalNumber(_ text: Substring) -> Bool {
        var index = text.startIndex
        var mantissaDigits = 0
        func isDigit(_ c: Character) -> Bool { c.isASCII && c.isNumber }
        while index < text.endIndex, isDigit(text[index]) { mantissaDigits += 1; index = text.index(after: index) }
        if index < text.endIndex, text[index] == "." {
            index = text.index(after: index)
            while index < text.endIndex, isDigit(text[index]) { mantissaDigits += 1; index = text.index(after: index) }
        }
        guard mantissaDigits > 0 else { return false }
        if index < text.endIndex, text[index] == "e" || text[index] == "E" {
            index = text.index(after: index)
            if index < text.endIndex, text[index] == "+" || text[index] == "-" { index = text.index(after: index) }
            var exponentDigits = 0
            while index < text.endIndex, isDigit(text[index]) { exponentDigits += 1; index = text.index(after: index) }
            guard exponentDigits > 0 else { return false }
        }
        return index == text.endIndex
    }
}
