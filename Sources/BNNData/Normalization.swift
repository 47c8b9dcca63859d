/// Per-channel normalisation of 8-bit pixels to floats: `(v / 255 − mean[c]) / std[c]`, in `Float` and in
/// that order, as torchvision's `ToTensor` followed by `Normalize`.
public struct Normalization: Equatable, Sendable {
    /// The mean of the R, G and B channels on the [0, 1] scale.
    public let mean: [Float]
    /// The standard deviation of the R, G and B channels on the [0, 1] scale.
    public let standardDeviation: [Float]
    /// The normalised value of every byte per channel: `table[c * 256 + v]`.
    let table: [Float]

    /// Creates a normalisation with three means and three standard deviations (all deviations > 0).
    public init(mean: [Float], standardDeviation: [Float]) {
        precondition(mean.count == 3 && standardDeviation.count == 3 && standardDeviation.allSatisfy { $0 > 0 },
                     "Normalization: needs 3 means and 3 positive standard deviations")
        self.mean = mean
        self.standardDeviation = standardDeviation
        var table = [Float](repeating: 0, count: 768)
        for c in 0..<3 {
            for v in 0..<256 { table[c * 256 + v] = (Float(v) / 255 - mean[c]) / standardDeviation[c] }
        }
        self.table = table
    }

    /// ImageNet statistics: mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225).
    public static let imageNet = Normalization(mean: [0.485, 0.456, 0.406], standardDeviation: [0.229, 0.224, 0.225])

    /// Only scales to [0, 1] (mean 0, std 1).
    public static let unitRange = Normalization(mean: [0, 0, 0], standardDeviation: [1, 1, 1])

    /// Writes the normalised `width × height × 3` floats of `pixels` to `output`, mirroring each row when
    /// `flip` is set.
    func apply(_ pixels: UnsafePointer<UInt8>, width: Int, height: Int, flip: Bool,
               to output: UnsafeMutablePointer<Float>) {
        table.withUnsafeBufferPointer { table in
            let t = table.baseAddress!
            for y in 0..<height {
                let src = pixels + y * width * 3
                let dst = output + y * width * 3
                for x in 0..<width {
                    let s = src + (flip ? width - 1 - x : x) * 3
                    dst[x * 3] = t[Int(s[0])]
                    dst[x * 3 + 1] = t[256 + Int(s[1])]
                    dst[x * 3 + 2] = t[512 + Int(s[2])]
                }
            }
        }
    }
}
