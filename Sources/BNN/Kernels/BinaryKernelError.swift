/// Errors of the bit-packed binary kernels: shapes of user tensors that do not fit together.
public enum BinaryKernelError: Error, Equatable, CustomStringConvertible {
    /// A tensor has the wrong rank or shape; `tensor` names it (e.g. "input", "weights",
    /// "residual"), `expected` describes the shape wanted and `found` the shape given.
    case shapeMismatch(tensor: String, expected: String, found: [Int])
    /// A convolution setting is out of range; `setting` names it (e.g. "stride", "padding").
    case invalidSetting(setting: String, expected: String, found: Int)
    /// A kernel variant was asked for that this CPU cannot run; `variant` names it (e.g. "AVX-512").
    case unavailableKernel(String)

    /// A readable message naming the tensor or setting, the expectation and what was found.
    public var description: String {
        switch self {
        case let .shapeMismatch(tensor, expected, found):
            return "binary convolution: \(tensor) must be \(expected), found shape \(found)"
        case let .invalidSetting(setting, expected, found):
            return "binary convolution: \(setting) must be \(expected), found \(found)"
        case let .unavailableKernel(variant):
            return "binary convolution: the \(variant) kernel does not run on this CPU (see BinaryKernelVariant.isAvailable)"
        }
    }
}
