/// Errors of the bit-packed binary kernels: shapes of user tensors that do not fit together.
public enum BinaryKernelError: Error, Equatable, CustomStringConvertible {
    /// A tensor has the wrong rank or shape; `tensor` names it (e.g. "input", "weights",
    /// "residual"), `expected` describes the shape wanted and `found` the shape given.
    case shapeMismatch(tensor: String, expected: String, found: [Int])
    /// A convolution setting is out of range; `setting` names it (e.g. "stride", "padding").
    case invalidSetting(setting: String, expected: String, found: Int)

    /// A readable message naming the tensor or setting, the expectation and what was found.
    public var description: String {
        switch self {
        case let .shapeMismatch(tensor, expected, found):
            return "binary convolution: \(tensor) must be \(expected), found shape \(found)"
        case let .invalidSetting(setting, expected, found):
            return "binary convolution: \(setting) must be \(expected), found \(found)"
        }
    }
}
