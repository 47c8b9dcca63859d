import Foundation

/// A flat YAML configuration file, such as the reference `birealnet34.yaml`: one `key: value` per
/// line, with `#` comments (whole-line, or after whitespace outside quotes), blank lines, scalars
/// (see ``FlatYAMLValue``) and inline lists `[0.9, 0.999]`.
///
/// Nested YAML (indented lines, `- item` lists, `{...}` mappings), anchors, tags and block scalars
/// are rejected with an error naming the line, as are duplicate keys. The typed accessors throw
/// ``FlatYAMLError/typeMismatch(file:key:line:expected:found:)`` naming the file, line, key, the
/// expected type and the text found, e.g. `birealnet34.yaml:31: beta expects a list of 2 numbers, got 'abc'`.
///
/// ```swift
/// let config = try FlatYAML(contentsOf: URL(fileURLWithPath: "birealnet34.yaml"))
/// try config.validateKeys(knownKeys)
/// let epochs = try config.integer("epochs", default: 300, in: 1...100_000)
/// let betas = try config.doubles("beta", count: 2) ?? [0.9, 0.999]
/// ```
public struct FlatYAML: Sendable {
    /// One `key: value` line.
    public struct Entry: Sendable, Equatable {
        /// The key.
        public var key: String
        /// The typed value.
        public var value: FlatYAMLValue
        /// The value as written, without the comment and surrounding spaces (used in messages).
        public var text: String
        /// The 1-based line number.
        public var line: Int

        /// Creates an entry.
        public init(key: String, value: FlatYAMLValue, text: String, line: Int) {
            self.key = key
            self.value = value
            self.text = text
            self.line = line
        }
    }

    /// The name of the file in messages: the path as given for files, or the caller's label.
    public let source: String
    /// The entries in file order.
    public let entries: [Entry]
    private let indexByKey: [String: Int]

    /// Reads and parses the file at `url`; messages name it by the path as given (relative or absolute).
    ///
    /// - Throws: ``FlatYAMLError/unreadable(file:reason:)`` when the file cannot be read or is not
    ///   UTF-8; otherwise the errors of ``init(parsing:source:)``.
    public init(contentsOf url: URL) throws {
        let source = url.isFileURL ? url.relativePath : url.absoluteString
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw FlatYAMLError.unreadable(file: source, reason: error.localizedDescription)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw FlatYAMLError.unreadable(file: source, reason: "not UTF-8 text")
        }
        try self.init(parsing: text, source: source)
    }

    /// Parses `text`; `source` names it in error messages.
    ///
    /// - Throws: ``FlatYAMLError/syntax(file:line:message:)`` for a line that is not a flat
    ///   `key: value` line or a value that does not parse (unterminated quote or list, nested list,
    ///   unsupported YAML feature); ``FlatYAMLError/duplicateKey(file:key:line:firstLine:)``.
    public init(parsing text: String, source: String) throws {
        self.source = source
        entries = try FlatYAMLParser.parse(text, source: source)
        indexByKey = Dictionary(uniqueKeysWithValues: entries.enumerated().map { ($0.element.key, $0.offset) })
    }

    /// The keys in file order.
    public var keys: [String] { entries.map(\.key) }

    /// The entry of `key`, or `nil` when the file does not set it.
    public func entry(_ key: String) -> Entry? { indexByKey[key].map { entries[$0] } }

    /// The value of `key`, or `nil` when the file does not set it.
    public subscript(key: String) -> FlatYAMLValue? { entry(key)?.value }

    /// Checks that every key of the file is in `known`, so a misspelt setting is an error rather than
    /// silently ignored.
    ///
    /// - Throws: ``FlatYAMLError/unknownKey(file:key:line:suggestion:)`` for the first unknown key,
    ///   suggesting the closest known key when it differs by at most a third of its length.
    public func validateKeys<Keys: Sequence>(_ known: Keys) throws where Keys.Element == String {
        let knownKeys = Set(known)
        guard let unknown = entries.first(where: { !knownKeys.contains($0.key) }) else { return }
        let closest = knownKeys.map { (key: $0, distance: Self.editDistance(unknown.key, $0)) }
            .min { ($0.distance, $0.key) < ($1.distance, $1.key) }
        let suggestion = closest.flatMap { $0.distance <= max(1, unknown.key.count / 3) ? $0.key : nil }
        throw FlatYAMLError.unknownKey(file: source, key: unknown.key, line: unknown.line, suggestion: suggestion)
    }

    /// Throws unless the file sets `key` (to anything, `null` included).
    ///
    /// - Throws: ``FlatYAMLError/missingKey(file:key:)``.
    public func requireKey(_ key: String) throws {
        guard indexByKey[key] != nil else { throw FlatYAMLError.missingKey(file: source, key: key) }
    }

    // MARK: Typed accessors. A `null` value reads as absent: `nil`, or the default.

    /// The value of `key` as a string: a quoted or plain string, or the text of another scalar as
    /// written (`arch: 34` reads as `"34"`); `nil` when absent or null.
    ///
    /// - Throws: ``FlatYAMLError/typeMismatch(file:key:line:expected:found:)`` for a list.
    public func string(_ key: String) throws -> String? {
        guard let entry = entry(key) else { return nil }
        switch entry.value {
        case .null: return nil
        case .string(let value): return value
        case .list: throw mismatch(entry, expected: "a string")
        case .bool, .integer, .number: return entry.text
        }
    }

    /// The value of `key` as a string, or `defaultValue` when absent or null.
    ///
    /// - Throws: ``FlatYAMLError/typeMismatch(file:key:line:expected:found:)`` for a list.
    public func string(_ key: String, default defaultValue: String) throws -> String {
        try string(key) ?? defaultValue
    }

    /// The value of `key` as an integer in `range` (a number with an integral value such as `128.`
    /// is accepted); `nil` when absent or null.
    ///
    /// - Throws: ``FlatYAMLError/typeMismatch(file:key:line:expected:found:)`` naming the range.
    public func integer(_ key: String, in range: ClosedRange<Int> = Int.min...Int.max) throws -> Int? {
        guard let entry = entry(key), entry.value != .null else { return nil }
        let expected = range == Int.min...Int.max ? "an integer" : "an integer in \(range.lowerBound)...\(range.upperBound)"
        let integer: Int?
        switch entry.value {
        case .integer(let value): integer = value
        case .number(let value): integer = value.rounded() == value ? Int(exactly: value) : nil
        default: integer = nil
        }
        guard let integer, range.contains(integer) else { throw mismatch(entry, expected: expected) }
        return integer
    }

    /// The value of `key` as an integer in `range`, or `defaultValue` when absent or null.
    ///
    /// - Throws: ``FlatYAMLError/typeMismatch(file:key:line:expected:found:)`` naming the range.
    public func integer(_ key: String, default defaultValue: Int, in range: ClosedRange<Int> = Int.min...Int.max) throws -> Int {
        try integer(key, in: range) ?? defaultValue
    }

    /// The value of `key` as a finite number in `range` (integers are accepted); `nil` when absent or null.
    ///
    /// - Throws: ``FlatYAMLError/typeMismatch(file:key:line:expected:found:)`` naming the range.
    public func double(_ key: String, in range: ClosedRange<Double> = -Double.greatestFiniteMagnitude...Double.greatestFiniteMagnitude) throws -> Double? {
        guard let entry = entry(key), entry.value != .null else { return nil }
        let unbounded = range == -Double.greatestFiniteMagnitude...Double.greatestFiniteMagnitude
        let expected = unbounded ? "a number" : "a number in \(range.lowerBound)...\(range.upperBound)"
        guard let value = entry.value.numericValue, value.isFinite, range.contains(value) else {
            throw mismatch(entry, expected: expected)
        }
        return value
    }

    /// The value of `key` as a finite number in `range`, or `defaultValue` when absent or null.
    ///
    /// - Throws: ``FlatYAMLError/typeMismatch(file:key:line:expected:found:)`` naming the range.
    public func double(_ key: String, default defaultValue: Double,
                       in range: ClosedRange<Double> = -Double.greatestFiniteMagnitude...Double.greatestFiniteMagnitude) throws -> Double {
        try double(key, in: range) ?? defaultValue
    }

    /// The value of `key` as a boolean (`true`/`True`/`TRUE`, `false`/`False`/`FALSE`); `nil` when
    /// absent or null.
    ///
    /// - Throws: ``FlatYAMLError/typeMismatch(file:key:line:expected:found:)``.
    public func bool(_ key: String) throws -> Bool? {
        guard let entry = entry(key), entry.value != .null else { return nil }
        guard case .bool(let value) = entry.value else { throw mismatch(entry, expected: "a boolean (true or false)") }
        return value
    }

    /// The value of `key` as a boolean, or `defaultValue` when absent or null.
    ///
    /// - Throws: ``FlatYAMLError/typeMismatch(file:key:line:expected:found:)``.
    public func bool(_ key: String, default defaultValue: Bool) throws -> Bool {
        try bool(key) ?? defaultValue
    }

    /// The value of `key` as a list of finite numbers, of exactly `count` items when `count` is
    /// given; `nil` when absent or null.
    ///
    /// - Throws: ``FlatYAMLError/typeMismatch(file:key:line:expected:found:)``, e.g.
    ///   `beta expects a list of 2 numbers, got 'abc'`.
    public func doubles(_ key: String, count: Int? = nil) throws -> [Double]? {
        guard let entry = entry(key), entry.value != .null else { return nil }
        let expected = count.map { "a list of \($0) number" + ($0 == 1 ? "" : "s") } ?? "a list of numbers"
        guard case .list(let items) = entry.value, count.map({ items.count == $0 }) ?? true else {
            throw mismatch(entry, expected: expected)
        }
        let numbers = items.compactMap { $0.numericValue.flatMap { $0.isFinite ? $0 : nil } }
        guard numbers.count == items.count else { throw mismatch(entry, expected: expected) }
        return numbers
    }

    /// The value of `key`, which must be one of `choices`, or `defaultValue` when absent or null.
    ///
    /// - Throws: ``FlatYAMLError/typeMismatch(file:key:line:expected:found:)`` listing the choices.
    public func choice(_ key: String, _ choices: [String], default defaultValue: String) throws -> String {
        guard let entry = entry(key), let value = try string(key) else { return defaultValue }
        guard choices.contains(value) else { throw mismatch(entry, expected: "one of " + choices.joined(separator: ", ")) }
        return value
    }

    /// The value of `key` as a case of a string-backed enumeration, or `defaultValue` when absent or null.
    ///
    /// - Throws: ``FlatYAMLError/typeMismatch(file:key:line:expected:found:)`` listing the accepted values.
    public func choice<T: RawRepresentable & CaseIterable>(_ key: String, default defaultValue: T) throws -> T
    where T.RawValue == String {
        let name = try choice(key, T.allCases.map(\.rawValue), default: defaultValue.rawValue)
        return T(rawValue: name) ?? defaultValue
    }

    private func mismatch(_ entry: Entry, expected: String) -> FlatYAMLError {
        .typeMismatch(file: source, key: entry.key, line: entry.line, expected: expected, found: entry.text)
    }

    /// The Levenshtein distance between two keys (small strings; quadratic is fine).
    private static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        var previous = Array(0...b.count)
        var current = previous
        for i in 1...a.count {
            current[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
