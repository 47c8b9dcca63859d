import Foundation

/// Output helpers shared by the benchmark sections.
enum BenchFormatting {
    /// Pretty-printed JSON with sorted keys, for scripts that compare runs.
    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// One table line: the first cell left-aligned, the others right-aligned, to the given widths.
    static func pad(_ cells: [String], _ widths: [Int]) -> String {
        zip(cells, widths).enumerated().map { index, pair in
            let (cell, width) = pair
            let fill = String(repeating: " ", count: max(0, width - cell.count))
            return index == 0 ? cell + fill : fill + cell
        }.joined(separator: " ")
    }
}
