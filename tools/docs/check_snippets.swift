// check_snippets: fails when a code block of the documentation differs from the tested code it shows.
//
//   swiftc -O tools/docs/check_snippets.swift -o .build-docs/check-snippets
//   .build-docs/check-snippets CATALOG_DIR TEST_FILE [TEST_FILE …]
//
// In the test files a region starts with a line `// snippet: NAME` and ends with `// end-snippet`. In the
// catalog's Markdown files a line `<!-- snippet: NAME -->` (DocC drops HTML comments) is followed by a
// fenced Swift code block. Both are compared after removing their common indentation and trailing
// spaces. Every marker must name a region, every region must be shown, and the texts must be equal.
//
// Exit status: 0 when all agree, 1 when some differ, 2 for bad arguments or unreadable files.
import Foundation

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("check_snippets: \(message)\n".utf8))
    exit(2)
}

func read(_ path: String) -> [String] {
    guard let data = FileManager.default.contents(atPath: path) else { fail("cannot read \(path)") }
    return String(decoding: data, as: UTF8.self).components(separatedBy: "\n")
}

/// The lines without their common leading spaces and without trailing spaces.
func normalized(_ lines: [String]) -> [String] {
    let trimmed = lines.map { line -> String in
        var end = line.endIndex
        while end > line.startIndex, line[line.index(before: end)] == " " { end = line.index(before: end) }
        return String(line[..<end])
    }
    let indent = trimmed.filter { !$0.isEmpty }.map { $0.prefix { $0 == " " }.count }.min() ?? 0
    return trimmed.map { $0.isEmpty ? $0 : String($0.dropFirst(indent)) }
}

/// A named piece of text and where it starts.
struct Region {
    var lines: [String]
    var location: String
}

func marker(_ line: String, prefix: String, suffix: String = "") -> String? {
    let text = line.trimmingCharacters(in: .whitespaces)
    guard text.hasPrefix(prefix), text.hasSuffix(suffix) else { return nil }
    return text.dropFirst(prefix.count).dropLast(suffix.count).trimmingCharacters(in: .whitespaces)
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count >= 2 else { fail("usage: check-snippets CATALOG_DIR TEST_FILE [TEST_FILE …]") }
var problems: [String] = []

// Regions of the test files.
var regions: [String: Region] = [:]
for path in arguments.dropFirst() {
    let lines = read(path)
    var index = 0
    while index < lines.count {
        defer { index += 1 }
        guard let name = marker(lines[index], prefix: "// snippet:") else { continue }
        let start = index
        var body: [String] = []
        index += 1
        while index < lines.count, marker(lines[index], prefix: "// end-snippet") == nil {
            body.append(lines[index])
            index += 1
        }
        if index == lines.count { problems.append("\(path):\(start + 1): snippet '\(name)' has no '// end-snippet'") }
        if regions[name] != nil { problems.append("\(path):\(start + 1): snippet '\(name)' defined twice") }
        regions[name] = Region(lines: normalized(body), location: "\(path):\(start + 1)")
    }
}

// Code blocks of the catalog.
var shown: Set<String> = []
let catalog = arguments[0]
guard let enumerator = FileManager.default.enumerator(atPath: catalog) else { fail("cannot list \(catalog)") }
for case let relative as String in enumerator where relative.hasSuffix(".md") {
    let path = catalog + "/" + relative
    let lines = read(path)
    for (number, line) in lines.enumerated() {
        guard let name = marker(line, prefix: "<!-- snippet:", suffix: "-->") else { continue }
        shown.insert(name)
        var index = number + 1
        while index < lines.count, lines[index].trimmingCharacters(in: .whitespaces).isEmpty { index += 1 }
        guard index < lines.count, lines[index].trimmingCharacters(in: .whitespaces).hasPrefix("```") else {
            problems.append("\(path):\(number + 1): snippet marker '\(name)' is not followed by a code block")
            continue
        }
        var block: [String] = []
        index += 1
        while index < lines.count, !lines[index].trimmingCharacters(in: .whitespaces).hasPrefix("```") {
            block.append(lines[index])
            index += 1
        }
        guard let region = regions[name] else {
            problems.append("\(path):\(number + 1): no test region '// snippet: \(name)'")
            continue
        }
        let text = normalized(block)
        if text != region.lines {
            let firstDifference = zip(text, region.lines).enumerated().first { $0.element.0 != $0.element.1 }?.offset
                ?? min(text.count, region.lines.count)
            let documented = firstDifference < text.count ? text[firstDifference] : "(end of block)"
            let tested = firstDifference < region.lines.count ? region.lines[firstDifference] : "(end of region)"
            problems.append("""
                \(path):\(number + 1): code block '\(name)' differs from \(region.location), line \(firstDifference + 1) of the snippet:
                  documented: \(documented)
                  tested:     \(tested)
                """)
        }
    }
}
for (name, region) in regions.sorted(by: { $0.key < $1.key }) where !shown.contains(name) {
    problems.append("\(region.location): snippet '\(name)' is not shown in any article of \(catalog)")
}

if problems.isEmpty {
    print("check_snippets: \(regions.count) code blocks agree with the tested code")
    exit(0)
}
for problem in problems { FileHandle.standardError.write(Data("\(problem)\n".utf8)) }
exit(1)
