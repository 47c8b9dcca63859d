import Foundation

/// An SVG bar chart of float vs binary convolution time per layer, one panel per (batch, threads),
/// on a logarithmic time axis (the two differ by more than an order of magnitude).
enum BenchChart {
    static func svg(_ rows: [ConvolutionMeasurement]) -> String {
        let panels = Dictionary(grouping: rows) { "\($0.batch)-\($0.threads)" }
            .values.map { $0 }.sorted { ($0[0].batch, $0[0].threads) < ($1[0].batch, $1[0].threads) }
        let labelWidth = 190.0, plotWidth = 560.0, barHeight = 9.0, rowHeight = 24.0, panelGap = 46.0
        let times = rows.flatMap { [$0.floatSeconds, $0.binarySeconds].compactMap { $0 } }.map { $0 * 1e3 }
        let lowExp = floor(log10(max(1e-3, times.min() ?? 0.01)))
        let highExp = ceil(log10(max(1e-2, times.max() ?? 1)))
        func x(_ ms: Double) -> Double {
            labelWidth + plotWidth * (log10(max(ms, pow(10, lowExp))) - lowExp) / max(1, highExp - lowExp)
        }
        var body: [String] = []
        var y = 30.0
        for panel in panels {
            body.append(text(labelWidth, y, "batch \(panel[0].batch), \(panel[0].threads) thread(s): time per convolution (ms, log scale)",
                             anchor: "start", weight: "bold"))
            y += 12
            let top = y
            for (i, m) in panel.enumerated() {
                let rowTop = top + Double(i) * rowHeight
                body.append(text(labelWidth - 6, rowTop + barHeight + 2, m.layer, anchor: "end"))
                if let f = m.floatSeconds {
                    body.append(bar(labelWidth, rowTop, x(f * 1e3) - labelWidth, barHeight, "#d95f02"))
                    body.append(text(x(f * 1e3) + 4, rowTop + barHeight - 1, String(format: "%.3g", f * 1e3), anchor: "start"))
                }
                let b = m.binarySeconds * 1e3
                body.append(bar(labelWidth, rowTop + barHeight + 1, x(b) - labelWidth, barHeight, "#1b9e77"))
                body.append(text(x(b) + 4, rowTop + 2 * barHeight, String(format: "%.3g", b), anchor: "start"))
            }
            let bottom = top + Double(panel.count) * rowHeight
            var e = lowExp
            while e <= highExp {
                let gx = x(pow(10, e))
                body.append("<line x1=\"\(gx)\" y1=\"\(top - 4)\" x2=\"\(gx)\" y2=\"\(bottom)\" stroke=\"#bbb\" stroke-dasharray=\"2,3\"/>")
                body.append(text(gx, bottom + 12, e < 0 ? String(format: "%g", pow(10, e)) : String(Int(pow(10, e))), anchor: "middle"))
                e += 1
            }
            y = bottom + panelGap
        }
        body.append(bar(labelWidth, y - 30, 12, 9, "#d95f02"))
        body.append(text(labelWidth + 16, y - 22, "float (Convolution.forward)", anchor: "start"))
        body.append(bar(labelWidth + 220, y - 30, 12, 9, "#1b9e77"))
        body.append(text(labelWidth + 236, y - 22, "binary (pack + XOR-popcount + fused transform)", anchor: "start"))
        let width = labelWidth + plotWidth + 60
        return """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(y))" font-family="sans-serif" font-size="10">
            <rect width="100%" height="100%" fill="white"/>
            \(body.joined(separator: "\n"))
            </svg>

            """
    }

    private static func bar(_ x: Double, _ y: Double, _ w: Double, _ h: Double, _ color: String) -> String {
        String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%@\"/>", x, y, max(1, w), h, color)
    }

    private static func text(_ x: Double, _ y: Double, _ s: String, anchor: String, weight: String = "normal") -> String {
        let escaped = s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        return String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%@\" font-weight=\"%@\">", x, y, anchor, weight)
            + escaped + "</text>"
    }
}
