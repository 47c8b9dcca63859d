import Foundation

/// Maps the tensor names of a checkpoint to the parameter names of a model, so a model can accept
/// other naming conventions (a `module.` prefix from `DataParallel`, renamed layers).
///
/// The mapping returns the model name for a checkpoint name, or `nil` to ignore that tensor (it is
/// then neither loaded nor reported as unexpected). Rules compose left to right:
///
/// ```swift
/// let renaming = CheckpointRenaming.rules([
///     .stripPrefix("module."),
///     .replacePrefix("fc.", with: "classifier."),
///     .ignore(prefix: "aux."),
/// ])
/// ```
public struct CheckpointRenaming {
    /// The model name for a checkpoint name, or `nil` to ignore the tensor.
    public let map: (String) -> String?

    /// Creates a renaming from a closure returning the model name, or `nil` to ignore the tensor.
    public init(_ map: @escaping (String) -> String?) {
        self.map = map
    }

    /// Every name unchanged.
    public static let identity = CheckpointRenaming { $0 }

    /// Removes `prefix` from names that start with it (`module.conv1.weight` → `conv1.weight`);
    /// other names pass unchanged.
    public static func stripPrefix(_ prefix: String) -> CheckpointRenaming {
        replacePrefix(prefix, with: "")
    }

    /// Replaces a leading `prefix` with `replacement`; other names pass unchanged.
    public static func replacePrefix(_ prefix: String, with replacement: String) -> CheckpointRenaming {
        CheckpointRenaming { name in
            name.hasPrefix(prefix) ? replacement + name.dropFirst(prefix.count) : name
        }
    }

    /// Replaces every occurrence of `substring` with `replacement` (e.g. `.downsample.` →
    /// `.shortcut.`).
    public static func replace(_ substring: String, with replacement: String) -> CheckpointRenaming {
        precondition(!substring.isEmpty, "CheckpointRenaming.replace: empty substring")
        return CheckpointRenaming { $0.replacingOccurrences(of: substring, with: replacement) }
    }

    /// Ignores the tensors whose name starts with `prefix`; other names pass unchanged.
    public static func ignore(prefix: String) -> CheckpointRenaming {
        CheckpointRenaming { $0.hasPrefix(prefix) ? nil : $0 }
    }

    /// Applies `rules` in order; a rule that ignores a name ends the chain for that name.
    public static func rules(_ rules: [CheckpointRenaming]) -> CheckpointRenaming {
        CheckpointRenaming { name in
            var current = name
            for rule in rules {
                guard let next = rule.map(current) else { return nil }
                current = next
            }
            return current
        }
    }

    /// This renaming followed by `next`.
    public func then(_ next: CheckpointRenaming) -> CheckpointRenaming {
        .rules([self, next])
    }
}
