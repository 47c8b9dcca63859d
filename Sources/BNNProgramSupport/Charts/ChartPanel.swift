import Foundation

/// One line of a ``ChartPanel``.
struct ChartSeries {
    /// The legend label.
    var name: String
    /// An SVG colour.
    var color: String
    /// The points; non-finite `y` values break the line.
    var points: [(x: Double, y: Double)]
    /// Stroke width in pixels.
    var width = 1.8
    /// Whether the line is dashed.
    var dashed = false
    /// Whether points get a dot (shown only when there are few points).
    var markers = true
}

/// A small line chart drawn as an SVG group: title, legend, y grid with tick labels, x axis in
/// epochs, and the series.
struct ChartPanel {
    /// The `id` of the SVG group.
    var id: String
    /// The title above the plot.
    var title: String
    /// The series, drawn in order (the first underneath).
    var series: [ChartSeries]
    /// Bounds of the y axis, if any (accuracy in percent).
    var yClamp: ClosedRange<Double>?
    /// Suffix of y tick labels (`%`).
    var yUnit = ""

    /// The SVG group of the panel at (`left`, `top`), `width`×`height` pixels, with the x axis `xScale`.
    func svg(left: Double, top: Double, width: Double, height: Double, xScale: ChartScale) -> String {
        let plotLeft = 54.0, plotTop = 46.0, plotRight = width - 12, plotBottom = height - 36
        let drawn = series.filter { !$0.points.isEmpty }
        let yScale = ChartScale(covering: drawn.flatMap { $0.points.map(\.y) }, clamp: yClamp)
        var out = "<g id=\"\(id)\" transform=\"translate(\(Self.number(left)),\(Self.number(top)))\">\n"
        out += "<rect x=\"0.5\" y=\"0.5\" width=\"\(Self.number(width - 1))\" height=\"\(Self.number(height - 1))\" fill=\"#ffffff\" stroke=\"#d0d0d0\"/>\n"
        out += "<text x=\"\(Self.number(width / 2))\" y=\"18\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\">\(Self.escaped(title))</text>\n"
        out += legend(drawn, left: plotLeft, top: 32, right: plotRight)
        for tick in yScale.ticks {
            let y = Self.number(yScale.position(tick, from: plotBottom, to: plotTop))
            out += "<line x1=\"\(Self.number(plotLeft))\" y1=\"\(y)\" x2=\"\(Self.number(plotRight))\" y2=\"\(y)\" stroke=\"#ececec\"/>\n"
            out += "<text x=\"\(Self.number(plotLeft - 5))\" y=\"\(y)\" dy=\"3.5\" text-anchor=\"end\" font-size=\"10\" fill=\"#555555\">"
                + Self.escaped(yScale.label(tick) + yUnit) + "</text>\n"
        }
        for tick in xScale.ticks {
            let x = Self.number(xScale.position(tick, from: plotLeft, to: plotRight))
            out += "<line x1=\"\(x)\" y1=\"\(Self.number(plotBottom))\" x2=\"\(x)\" y2=\"\(Self.number(plotBottom + 4))\" stroke=\"#888888\"/>\n"
            out += "<text x=\"\(x)\" y=\"\(Self.number(plotBottom + 15))\" text-anchor=\"middle\" font-size=\"10\" fill=\"#555555\">"
                + xScale.label(tick) + "</text>\n"
        }
        out += "<path d=\"M\(Self.number(plotLeft)),\(Self.number(plotTop))V\(Self.number(plotBottom))H\(Self.number(plotRight))\" fill=\"none\" stroke=\"#888888\"/>\n"
        out += "<text x=\"\(Self.number((plotLeft + plotRight) / 2))\" y=\"\(Self.number(height - 6))\" text-anchor=\"middle\" font-size=\"10\" fill=\"#555555\">epoch</text>\n"
        if drawn.isEmpty {
            out += "<text x=\"\(Self.number((plotLeft + plotRight) / 2))\" y=\"\(Self.number((plotTop + plotBottom) / 2))\" text-anchor=\"middle\" font-size=\"11\" fill=\"#999999\">no data yet</text>\n"
        }
        for line in drawn {
            let points = line.points.map { (x: xScale.position($0.x, from: plotLeft, to: plotRight),
                                            y: $0.y.isFinite ? yScale.position($0.y, from: plotBottom, to: plotTop) : .nan) }
            let dash = line.dashed ? " stroke-dasharray=\"5,3\"" : ""
            for segment in points.split(whereSeparator: { !$0.y.isFinite }) {
                let coordinates = segment.map { "\(Self.number($0.x)),\(Self.number($0.y))" }.joined(separator: " ")
                out += "<polyline points=\"\(coordinates)\" fill=\"none\" stroke=\"\(line.color)\" stroke-width=\"\(Self.number(line.width))\""
                    + " stroke-linejoin=\"round\"\(dash)/>\n"
            }
            if line.markers && line.points.count <= 60 {
                for point in points where point.y.isFinite {
                    out += "<circle cx=\"\(Self.number(point.x))\" cy=\"\(Self.number(point.y))\" r=\"2.2\" fill=\"\(line.color)\"/>\n"
                }
            }
        }
        return out + "</g>\n"
    }

    /// One row of swatches and names under the title (names are cut when the row is full).
    private func legend(_ drawn: [ChartSeries], left: Double, top: Double, right: Double) -> String {
        var out = ""
        var x = left
        for line in drawn {
            let textWidth = Double(line.name.count) * 5.6
            guard x + 22 + textWidth <= right else { break }
            let dash = line.dashed ? " stroke-dasharray=\"5,3\"" : ""
            out += "<line x1=\"\(Self.number(x))\" y1=\"\(Self.number(top - 3.5))\" x2=\"\(Self.number(x + 16))\" y2=\"\(Self.number(top - 3.5))\""
                + " stroke=\"\(line.color)\" stroke-width=\"2\"\(dash)/>\n"
            out += "<text x=\"\(Self.number(x + 20))\" y=\"\(Self.number(top))\" font-size=\"10\">\(Self.escaped(line.name))</text>\n"
            x += 20 + textWidth + 12
        }
        return out
    }

    /// A coordinate with at most one decimal.
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(format: "%.1f", rounded)
    }

    /// `text` with the XML special characters escaped.
    static func escaped(_ text: String) -> String {
        var result = ""
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&apos;"
            case _ where character.isASCII && character.unicodeScalars.allSatisfy({ $0.value < 0x20 }):
                result += " "  // control characters are not allowed in XML 1.0
            default: result.append(character)
            }
        }
        return result
    }
}
