/// The line parser behind ``FlatYAML``: turns text into entries or throws ``FlatYAMLError`` naming
/// the file and line.
enum FlatYAMLParser {
    /// A syntax problem in one value, turned into ``FlatYAMLError/syntax(file:line:message:)`` by the caller.
    private struct ValueError: Error {
        var message: String
    }

    /// Parses `text`; `source` names the file in errors.
    static func parse(_ text: String, source: String) throws -> [FlatYAML.Entry] {
        var entries: [FlatYAML.Entry] = []
        var firstLineOfKey: [String: Int] = [:]
        // "\r\n" is one Character in Swift, so it is a separator of its own.
        var lines = text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }
        if let first = lines.first, first.hasPrefix("\u{FEFF}") { lines[0] = first.dropFirst() }
        for (offset, line) in lines.enumerated() {
            let lineNumber = offset + 1
            func syntaxError(_ message: String) -> FlatYAMLError {
                .syntax(file: source, line: lineNumber, message: message)
            }
            let content = withoutComment(line)
            let trimmed = content.trimmingSpaces()
            if trimmed.isEmpty { continue }
            if let first = content.first, first == " " || first == "\t" {
                throw syntaxError("indented line '\(trimmed)': nested YAML is not supported, write every setting as a top-level 'key: value' line")
            }
            if trimmed == "-" || trimmed.hasPrefix("- ") {
                throw syntaxError("list item '\(trimmed)': block lists are not supported, write lists inline as 'key: [a, b]'")
            }
            guard let colon = keySeparator(in: trimmed) else {
                throw syntaxError("expected 'key: value', got '\(trimmed)'")
            }
            let key = String(trimmed[..<colon]).trimmingSpaces()
            guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || "_-./".contains($0) }) else {
                throw syntaxError("invalid key '\(key)': keys are letters, digits, '_', '-', '.' and '/'")
            }
            let valueText = String(trimmed[trimmed.index(after: colon)...]).trimmingSpaces()
            guard !valueText.isEmpty else {
                throw syntaxError("'\(key)' has no value (nested YAML is not supported; write null for no value)")
            }
            if let firstLine = firstLineOfKey[key] {
                throw FlatYAMLError.duplicateKey(file: source, key: key, line: lineNumber, firstLine: firstLine)
            }
            let value: FlatYAMLValue
            do {
                value = try parseValue(valueText)
            } catch let error as ValueError {
                throw syntaxError("\(key): \(error.message)")
            }
            firstLineOfKey[key] = lineNumber
            entries.append(FlatYAML.Entry(key: key, value: value, text: valueText, line: lineNumber))
        }
        return entries
    }

    /// `line` without its comment: a `#` at the start or after whitespace, outside quotes.
    private static func withoutComment(_ line: Substring) -> Substring {
        var quote: Character?
        var escaped = false
        var previous: Character = " "  // so a '#' that starts the line is a comment
        var lastSignificant: Character = ":"
        for index in line.indices {
            let character = line[index]
            defer { previous = character }
            if let open = quote {
                if escaped { escaped = false } else if open == "\"" && character == "\\" { escaped = true } else if character == open { quote = nil }
                continue
            }
            if character == "#" && (previous == " " || previous == "\t") { return line[..<index] }
            // A quote opens a quoted scalar only where a value starts, so apostrophes inside plain
            // scalars ("don't") are ordinary characters.
            if (character == "\"" || character == "'") && ":,[".contains(lastSignificant) { quote = character }
            if character != " " && character != "\t" { lastSignificant = character }
        }
        return line
    }

    /// The index of the colon that ends the key: the first `:` followed by a space, a tab or the end.
    private static func keySeparator(in line: String) -> String.Index? {
        var index = line.startIndex
        while index < line.endIndex {
            let next = line.index(after: index)
            if line[index] == ":" && (next == line.endIndex || line[next] == " " || line[next] == "\t") { return index }
            index = next
        }
        return nil
    }

    /// Parses a value: an inline list or a scalar.
    private static func parseValue(_ text: String) throws -> FlatYAMLValue {
        guard let first = text.first else { throw ValueError(message: "empty value") }
        switch first {
        case "[":
            guard text.count >= 2, text.last == "]" else { throw ValueError(message: "unterminated list '\(text)', expected ']' at the end") }
            let inner = String(text.dropFirst().dropLast())
            if inner.trimmingSpaces().isEmpty { return .list([]) }
            return .list(try splitListItems(inner).map { item in
                guard !item.isEmpty else { throw ValueError(message: "empty item in list '\(text)'") }
                if item.first == "[" || item.first == "{" {
                    throw ValueError(message: "nested lists and mappings are not supported, got '\(text)'")
                }
                return try parseScalar(item)
            })
        case "{":
            throw ValueError(message: "inline mappings '{...}' are not supported, got '\(text)'")
        case "&", "*", "!", "|", ">", "@", "`", "%":
            throw ValueError(message: "'\(text)': anchors, aliases, tags and block scalars are not supported (quote the value if it is a string)")
        default:
            return try parseScalar(text)
        }
    }

    /// Splits the inside of `[...]` at commas outside quotes; items are trimmed.
    private static func splitListItems(_ inner: String) throws -> [String] {
        var items: [String] = []
        var current = ""
        var quote: Character?
        var escaped = false
        for character in inner {
            if let open = quote {
                if escaped { escaped = false } else if open == "\"" && character == "\\" { escaped = true } else if character == open { quote = nil }
                current.append(character)
                continue
            }
            if character == "," {
                items.append(current.trimmingSpaces())
                current = ""
                continue
            }
            if (character == "\"" || character == "'") && current.trimmingSpaces().isEmpty { quote = character }
            current.append(character)
        }
        items.append(current.trimmingSpaces())
        return items
    }

    /// Parses a quoted or plain scalar.
    private static func parseScalar(_ text: String) throws -> FlatYAMLValue {
        switch text.first {
        case "\"": return .string(try doubleQuoted(text))
        case "'": return .string(try singleQuoted(text))
        default:
            if text.contains(": ") || text.contains(":\t") || text.hasSuffix(":") {
                throw ValueError(message: "':' in the unquoted value '\(text)', quote the string")
            }
            return FlatYAMLValue.plainScalar(text)
        }
    }

    /// The content of `"..."` with its escapes resolved; the closing quote must end `text`.
    private static func doubleQuoted(_ text: String) throws -> String {
        var result = ""
        var iterator = text.dropFirst().makeIterator()
        while let character = iterator.next() {
            switch character {
            case "\"":
                guard iterator.next() == nil else { throw ValueError(message: "text after the closing quote in \(text)") }
                return result
            case "\\":
                switch iterator.next() {
                case "\\": result.append("\\")
                case "\"": result.append("\"")
                case "/": result.append("/")
                case "n": result.append("\n")
                case "t": result.append("\t")
                case "r": result.append("\r")
                case "0": result.append("\0")
                case let other?: throw ValueError(message: "unsupported escape '\\\(other)' in \(text)")
                case nil: throw ValueError(message: "unterminated string \(text)")
                }
            default: result.append(character)
            }
        }
        throw ValueError(message: "unterminated string \(text)")
    }

    /// The content of `'...'` with `''` read as one quote; the closing quote must end `text`.
    private static func singleQuoted(_ text: String) throws -> String {
        var result = ""
        var rest = text.dropFirst()
        while let character = rest.first {
            rest = rest.dropFirst()
            guard character == "'" else { result.append(character); continue }
            if rest.first == "'" { result.append("'"); rest = rest.dropFirst(); continue }
            guard rest.isEmpty else { throw ValueError(message: "text after the closing quote in \(text)") }
            return result
        }
        throw ValueError(message: "unterminated string \(text)")
    }
}

fileprivate extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    func trimmingSpaces() -> String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return String(slice)
    }
}
