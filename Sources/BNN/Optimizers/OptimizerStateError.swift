/// An error found while restoring optimizer, loss-scaler or EMA state from checkpoint tensors.
///
/// Every case names the tensor concerned (as it appears in the dictionary handed to `loadState`,
/// without the checkpoint's `optimizer.` prefix) so the message points at the exact entry.
public enum OptimizerStateError: Error, Equatable, CustomStringConvertible {
    /// A tensor the current configuration needs is absent.
    case missingTensor(name: String)
    /// A tensor has the wrong shape; shapes are in checkpoint (PyTorch) layout.
    case shapeMismatch(name: String, expected: [Int], found: [Int])
    /// A tensor is present that the current configuration does not use (a different model or
    /// optimizer configuration wrote the checkpoint).
    case unexpectedTensor(name: String)
    /// A scalar has a value that cannot be valid, such as a negative or fractional step count.
    case invalidValue(name: String, value: Float, requirement: String)

    /// A one-line message naming the tensor and what was expected versus found.
    public var description: String {
        switch self {
        case let .missingTensor(name):
            return "optimizer state: missing tensor '\(name)'"
        case let .shapeMismatch(name, expected, found):
            return "optimizer state: tensor '\(name)' has shape \(found), expected \(expected)"
        case let .unexpectedTensor(name):
            return "optimizer state: unexpected tensor '\(name)' (written by a different model or optimizer configuration)"
        case let .invalidValue(name, value, requirement):
            return "optimizer state: tensor '\(name)' holds \(value), expected \(requirement)"
        }
    }
}
