import BNN
import Foundation

/// The top classes of one image, printed as a table or JSON.
struct Classification: Encodable {
    /// One class and its softmax probability.
    struct Prediction: Encodable {
        var index: Int
        var name: String
        var probability: Double
    }

    var image: String
    var predictions: [Prediction]

    /// The `k` most probable classes of every row of N×classes `logits` (softmax in `Double`).
    static func top(_ k: Int, logits: Tensor, images: [String], classNames: [String]) -> [Classification] {
        let classes = logits.shape[1]
        let values = logits.scalars  // one copy: `scalars` copies the whole tensor on every read
        return images.enumerated().map { n, image in
            let row = values[(n * classes)..<((n + 1) * classes)].map(Double.init)
            let largest = row.max() ?? 0
            let exponentials = row.map { Foundation.exp($0 - largest) }
            let total = exponentials.reduce(0, +)
            let order = exponentials.indices.sorted {
                exponentials[$0] > exponentials[$1] || (exponentials[$0] == exponentials[$1] && $0 < $1)
            }
            return Classification(image: image, predictions: order.prefix(k).map {
                Prediction(index: $0, name: classNames[$0], probability: exponentials[$0] / total)
            })
        }
    }

    /// A readable block: the image, then one line per class.
    var table: String {
        ([image] + predictions.enumerated().map { rank, p in
            String(format: "  %d. %6.2f%%  %@ (%d)", rank + 1, 100 * p.probability, p.name, p.index)
        }).joined(separator: "\n")
    }
}
