import BNN
import BNNProgramSupport

extension TrainSettings {
    /// The precision policy asked for: `--precision fp32|bf16|bf16-o2`, else the reference's
    /// `amp_level` (O0 → fp32, O1 → bf16 backward passes, O2 → bf16 forward and backward; weights,
    /// optimizer state, BatchNorm and the loss stay fp32 in all), else fp32.
    ///
    /// - Throws: `CommandLineError` naming the flag or key when its value is none of those.
    func requestedPrecision() throws -> PrecisionPolicy {
        // A flag of either name overrides the file's value of the other.
        if flags.has("precision") || (has("precision") && !flags.has("amp-level")) {
            let name = try choice("precision", ["fp32", "bf16", "bf16-o2"], default: "fp32")
            return PrecisionPolicy(name: name) ?? .fp32
        }
        let level = try choice("amp_level", ["O0", "O1", "O2", "o0", "o1", "o2"], default: "O0")
        return PrecisionPolicy(name: level) ?? .fp32
    }

    /// The policy granted on this CPU (see ``PrecisionPolicy/granted(_:)``), set on every layer of
    /// `model`; says once on standard error when bfloat16 was asked for and fp32 runs instead.
    func applyPrecision(to model: any Module) throws -> PrecisionPolicy {
        let (policy, reason) = PrecisionPolicy.granted(try requestedPrecision())
        if let reason { warn("bf16 mixed precision requested, but \(reason)") }
        model.setPrecision(policy)
        return policy
    }
}
