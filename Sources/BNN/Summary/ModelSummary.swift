/// A Larq-style model summary: per layer the output shape, parameters by precision, memory and
/// multiply-accumulates by precision, with totals and the compression ratio against a float model.
///
/// ```swift
/// print(ModelSummary(model, inputShape: [1, 224, 224, 3]))
/// ```
public struct ModelSummary: CustomStringConvertible {
    /// One layer of the summary.
    public struct Row: Sendable {
        /// Dotted path of the layer (`layer1.0.binary_conv`).
        public var path: String
        /// The layer's description.
        public var layer: String
        /// Output shape for the summarised input.
        public var outputShape: [Int]
        /// Latent binary weights (1 bit each when deployed).
        public var binaryParameters: Int
        /// Real-valued trainable parameters (32 bits each).
        public var realParameters: Int
        /// Non-trainable buffers such as BatchNorm running statistics.
        public var buffers: Int
        /// Binary multiply-accumulates (XNOR-popcount).
        public var binaryMACs: Int
        /// Real-valued multiply-accumulates.
        public var realMACs: Int

        /// Deployed weight memory in bytes: 1 bit per binary weight, 4 bytes per real parameter.
        public var memoryBytes: Double { Double(binaryParameters) / 8 + Double(realParameters) * 4 }
    }

    /// The rows in data-flow order.
    public private(set) var rows: [Row] = []

    /// Summarises `model` for an input of `inputShape` (N×H×W×C for images).
    public init(_ model: any Module, inputShape: [Int]) {
        _ = model.appendSummaryRows(inputShape: inputShape, path: "", to: &self)
    }

    /// Joins a parent path and a child name with a dot (an empty name, an inlined child, keeps the path).
    public static func join(_ path: String, _ name: String) -> String {
        path.isEmpty ? name : (name.isEmpty ? path : path + "." + name)
    }

    /// Adds a row for `module` and every parameter below it.
    public mutating func appendRow(path: String, module: any Module, inputShape: [Int], outputShape: [Int]) {
        var row = Row(path: path, layer: module.summaryDescription, outputShape: outputShape,
                      binaryParameters: 0, realParameters: 0, buffers: 0, binaryMACs: 0, realMACs: 0)
        for (_, p) in module.namedParameters() {
            switch p.kind {
            case .latentBinary: row.binaryParameters += p.value.count
            case .real: row.realParameters += p.value.count
            case .buffer: row.buffers += p.value.count
            }
        }
        let macs = module.multiplyAccumulates(forInputShape: inputShape)
        row.binaryMACs = macs.binary
        row.realMACs = macs.real
        rows.append(row)
    }

    /// Total binary weights.
    public var binaryParameters: Int { rows.reduce(0) { $0 + $1.binaryParameters } }
    /// Total real trainable parameters.
    public var realParameters: Int { rows.reduce(0) { $0 + $1.realParameters } }
    /// Total trainable parameters.
    public var trainableParameters: Int { binaryParameters + realParameters }
    /// Total buffers.
    public var buffers: Int { rows.reduce(0) { $0 + $1.buffers } }
    /// Total binary MACs.
    public var binaryMACs: Int { rows.reduce(0) { $0 + $1.binaryMACs } }
    /// Total real MACs.
    public var realMACs: Int { rows.reduce(0) { $0 + $1.realMACs } }
    /// Deployed weight memory in bytes (binary weights packed to 1 bit).
    public var memoryBytes: Double { rows.reduce(0) { $0 + $1.memoryBytes } }
    /// Weight memory of the same model in 32-bit floats.
    public var floatMemoryBytes: Double { Double(trainableParameters) * 4 }
    /// How much smaller the deployed weights are than float weights.
    public var compressionRatio: Double { memoryBytes > 0 ? floatMemoryBytes / memoryBytes : 1 }

    /// The summary as a fixed-width table.
    public var description: String {
        let header = ["Layer", "Type", "Output shape", "1-bit params", "32-bit params", "Memory", "1-bit MACs", "32-bit MACs"]
        var table = [header]
        for r in rows {
            table.append([r.path.isEmpty ? "(model)" : r.path, r.layer, "\(r.outputShape)",
                          Self.count(r.binaryParameters), Self.count(r.realParameters), Self.bytes(r.memoryBytes),
                          Self.count(r.binaryMACs), Self.count(r.realMACs)])
        }
        table.append(["Total", "", "", Self.count(binaryParameters), Self.count(realParameters), Self.bytes(memoryBytes),
                      Self.count(binaryMACs), Self.count(realMACs)])
        let widths = (0..<header.count).map { c in table.map { $0[c].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { c, cell in
                c < 3 ? cell.padding(toLength: widths[c], withPad: " ", startingAt: 0)
                      : String(repeating: " ", count: widths[c] - cell.count) + cell
            }.joined(separator: "  ")
        }
        let rule = String(repeating: "─", count: widths.reduce(0, +) + 2 * (widths.count - 1))
        var lines = [line(table[0]), rule]
        lines += table.dropFirst().dropLast().map(line)
        lines += [rule, line(table[table.count - 1])]
        lines.append("Trainable parameters: \(Self.count(trainableParameters)) (\(Self.count(binaryParameters)) binary, "
                     + "\(Self.count(realParameters)) real); buffers: \(Self.count(buffers))")
        lines.append("Float-32 equivalent: \(Self.bytes(floatMemoryBytes)); deployed: \(Self.bytes(memoryBytes)); "
                     + "compression ratio: \(String(format: "%.2f", compressionRatio))×")
        return lines.joined(separator: "\n")
    }

    private static func count(_ n: Int) -> String {
        var digits = Array(String(n))
        var i = digits.count - 3
        while i > 0 { digits.insert(",", at: i); i -= 3 }
        return String(digits)
    }

    private static func bytes(_ b: Double) -> String {
        if b >= 1_048_576 { return String(format: "%.2f MiB", b / 1_048_576) }
        if b >= 1024 { return String(format: "%.2f KiB", b / 1024) }
        return String(format: "%.0f B", b)
    }
}

import Foundation
