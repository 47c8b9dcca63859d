import Foundation

/// Input that the ``InferenceEngine`` cannot run.
public enum InferenceError: Error, Equatable, Sendable, CustomStringConvertible, LocalizedError {
    /// The images are not N×H×W×3 with the model's input size; `expected` describes the shape wanted.
    case inputShape(expected: String, found: [Int])

    /// One sentence naming the expected and the found shape.
    public var description: String {
        switch self {
        case let .inputShape(expected, found):
            return "inference input must be \(expected), found shape \(found)"
        }
    }

    /// Same as ``description``.
    public var errorDescription: String? { description }
}
