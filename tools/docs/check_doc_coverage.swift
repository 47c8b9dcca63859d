// check_doc_coverage: fails when a public symbol of the given modules has no doc comment.
//
//   swiftc -O tools/docs/check_doc_coverage.swift -o .build-docs/check-doc-coverage
//   .build-docs/check-doc-coverage SYMBOL_GRAPH_DIR MODULE [MODULE …]
//
// Reads `<MODULE>.symbols.json` and `<MODULE>@<Other>.symbols.json` (extensions of other modules' types)
// from SYMBOL_GRAPH_DIR, as `swift build -Xswiftc -emit-symbol-graph` writes them, and lists every symbol
// declared in the package's sources without a `///` comment as `file:line: kind name`. Symbols the
// compiler synthesises (Equatable, Codable, RawRepresentable members) and members inherited from
// protocol extensions are skipped: they have no source location of their own, or an identifier marked
// `::SYNTHESIZED::`. `docc convert` does not report these itself (its `--warnings-as-errors` covers
// broken links and parameter lists, `--experimental-documentation-coverage` only prints percentages).
//
// Exit status: 0 when every symbol is documented, 1 when some are not, 2 for bad arguments or an
// unreadable symbol graph.
import Foundation

struct UndocumentedSymbol {
    var file: String
    var line: Int
    var kind: String
    var name: String
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("check_doc_coverage: \(message)\n".utf8))
    exit(2)
}

/// The undocumented symbols of one symbol-graph file, and how many symbols it declares in source.
func undocumentedSymbols(in url: URL, sourceRoot: String) -> (missing: [UndocumentedSymbol], checked: Int) {
    guard let data = FileManager.default.contents(atPath: url.path) else { fail("cannot read \(url.path)") }
    guard let graph = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
          let symbols = graph["symbols"] as? [[String: Any]] else {
        fail("\(url.path) is not a symbol graph (no \"symbols\" array)")
    }
    var missing: [UndocumentedSymbol] = []
    var checked = 0
    for symbol in symbols {
        let identifier = (symbol["identifier"] as? [String: Any])?["precise"] as? String ?? ""
        guard !identifier.contains("::SYNTHESIZED::"),
              let location = symbol["location"] as? [String: Any],
              let uri = location["uri"] as? String else { continue }
        let access = symbol["accessLevel"] as? String ?? "public"
        guard access == "public" || access == "open" else { continue }
        checked += 1
        let lines = ((symbol["docComment"] as? [String: Any])?["lines"] as? [[String: Any]]) ?? []
        let text = lines.compactMap { $0["text"] as? String }.joined().trimmingCharacters(in: .whitespaces)
        guard text.isEmpty else { continue }
        var file = uri.hasPrefix("file://") ? String(uri.dropFirst("file://".count)) : uri
        file = file.removingPercentEncoding ?? file
        if file.hasPrefix(sourceRoot) { file = String(file.dropFirst(sourceRoot.count)) }
        let line = ((location["position"] as? [String: Any])?["line"] as? Int).map { $0 + 1 } ?? 0
        let kind = (symbol["kind"] as? [String: Any])?["displayName"] as? String ?? "Symbol"
        let name = (symbol["pathComponents"] as? [String])?.joined(separator: ".") ?? identifier
        missing.append(UndocumentedSymbol(file: file, line: line, kind: kind, name: name))
    }
    return (missing, checked)
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count >= 2 else { fail("usage: check-doc-coverage SYMBOL_GRAPH_DIR MODULE [MODULE …]") }
let directory = URL(fileURLWithPath: arguments[0], isDirectory: true)
let modules = arguments.dropFirst()
guard let files = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else {
    fail("cannot list \(directory.path)")
}
let sourceRoot = FileManager.default.currentDirectoryPath + "/"
var missing: [UndocumentedSymbol] = []
for module in modules {
    let graphs = files.filter { $0 == "\(module).symbols.json" || ($0.hasPrefix("\(module)@") && $0.hasSuffix(".symbols.json")) }
    guard graphs.contains("\(module).symbols.json") else { fail("no \(module).symbols.json in \(directory.path)") }
    var checked = 0
    for graph in graphs.sorted() {
        let result = undocumentedSymbols(in: directory.appendingPathComponent(graph), sourceRoot: sourceRoot)
        missing += result.missing
        checked += result.checked
    }
    print("check_doc_coverage: \(module): \(checked) public symbols declared in source")
}
if missing.isEmpty {
    print("check_doc_coverage: every public symbol has a doc comment")
    exit(0)
}
let report = Set(missing.map { "\($0.file):\($0.line): \($0.kind) \($0.name)" }).sorted()
for line in report {
    FileHandle.standardError.write(Data("\(line): missing doc comment\n".utf8))
}
FileHandle.standardError.write(Data("check_doc_coverage: \(report.count) public symbol(s) without a doc comment\n".utf8))
exit(1)
