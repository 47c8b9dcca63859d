import Foundation

/// Input that the ``InferenceEngine`` cannot run.
public enum InferenceError: Error, Equatable, Sendable, CustomStringConvertible, LocalizedError {
    /// The images are not N×H×W×C with the model's input size; `expected` describes the shape wanted.
    case inputShape(expected: String, found: [Int])
    /// `count` input values are NaN or infinite, the first at flat index `firstIndex`: a 1-bit sign
    /// of NaN means nothing, so no engine answers for such images.
    case nonFiniteInput(count: Int, firstIndex: Int)
    /// The buffers of a run would need `bytes` bytes, more than `limit` (half the physical memory):
    /// the input size or the batch is too large for this machine.
    case tooLarge(batch: Int, bytes: Int, limit: Int)

    /// One sentence naming the expected and the found shape, the bad values or the sizes.
    public var description: String {
        switch self {
        case let .inputShape(expected, found):
            return "inference input must be \(expected), found shape \(found)"
        case let .nonFiniteInput(count, firstIndex):
            return "inference input has \(count) NaN or infinite value(s), the first at flat index \(firstIndex); "
                + "check the image decoding and normalisation"
        case let .tooLarge(batch, bytes, limit):
            return String(format: "a batch of %d needs %.1f GB of activation buffers, more than the %.1f GB allowed "
                          + "(half the memory); use a smaller batch or input size", batch, Double(bytes) / 1e9, Double(limit) / 1e9)
        }
    }

    /// Same as ``description``.
    public var errorDescription: String? { description }
}
