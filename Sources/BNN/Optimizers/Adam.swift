/// Adam with L2 weight decay added to the gradient, with the exact semantics of
/// `torch.optim.Adam` (without `amsgrad`).
public typealias Adam = OptimizerBase<AdamRule<L2WeightDecay>>

/// Adam with decoupled weight decay, with the exact semantics of `torch.optim.AdamW`
/// (without `amsgrad`).
public typealias AdamW = OptimizerBase<AdamRule<DecoupledWeightDecay>>

/// How an Adam-family rule applies weight decay λ; the type parameter of ``AdamRule``.
public protocol AdamWeightDecayStyle {
    /// `true` for AdamW's `θ ← θ·(1 − η·λ)` before the update, `false` for Adam's `g ← g + λ·θ`.
    static var isDecoupled: Bool { get }
    /// PyTorch's default λ for this style (0 for Adam, 0.01 for AdamW).
    static var defaultWeightDecay: Double { get }
}

/// Adam's weight decay: the L2 term `λ·θ` is added to the gradient.
public enum L2WeightDecay: AdamWeightDecayStyle {
    /// `false`.
    public static var isDecoupled: Bool { false }
    /// 0, as `torch.optim.Adam`.
    public static var defaultWeightDecay: Double { 0 }
}

/// AdamW's decoupled weight decay: the parameter shrinks by `1 − η·λ` before the Adam update.
public enum DecoupledWeightDecay: AdamWeightDecayStyle {
    /// `true`.
    public static var isDecoupled: Bool { true }
    /// 0.01, as `torch.optim.AdamW`.
    public static var defaultWeightDecay: Double { 1e-2 }
}

/// The update of `torch.optim.Adam` / `torch.optim.AdamW` for one parameter: with `t` the 1-based
/// step and λ the weight decay,
///
/// ```
/// θ = θ·(1 − η·λ)                    (decoupled decay, AdamW, when λ ≠ 0)
/// g = g + λ·θ                        (L2 decay, Adam, when λ ≠ 0)
/// m = β₁·m + (1 − β₁)·g
/// v = β₂·v + (1 − β₂)·g²
/// θ = θ − η/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)
/// ```
///
/// Computed in `Float` with `Double` scalar coefficients, in PyTorch's operation order.
public struct AdamRule<Decay: AdamWeightDecayStyle>: OptimizerRule {
    /// Decay rate β₁ of the first moment.
    public var beta1: Double
    /// Decay rate β₂ of the second moment.
    public var beta2: Double
    /// ε added to the denominator.
    public var epsilon: Double
    /// The default weight decay λ, applied in the `Decay` style.
    public var weightDecay: Double

    /// Creates the rule with PyTorch's defaults (`weightDecay` `nil` means
    /// ``AdamWeightDecayStyle/defaultWeightDecay``).
    public init(beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8, weightDecay: Double? = nil) {
        precondition((0..<1).contains(beta1) && (0..<1).contains(beta2), "Adam: betas must lie in [0, 1)")
        let weightDecay = weightDecay ?? Decay.defaultWeightDecay
        precondition(epsilon >= 0 && weightDecay >= 0, "Adam: negative epsilon or weight decay")
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }

    /// `["exp_avg", "exp_avg_sq"]`.
    public var stateSlotNames: [String] { AdamState.slotNames }

    /// Zero moments.
    public func makeState(for parameter: Parameter) -> AdamState { AdamState(for: parameter) }

    /// Applies one Adam or AdamW step to `parameter`.
    public func update(_ parameter: Parameter, state: inout AdamState, settings: OptimizerStepSettings) {
        if Decay.isDecoupled && settings.weightDecay != 0 {
            parameter.value.scale(by: Float(1 - settings.learningRate * settings.weightDecay))
        }
        state.step(parameter, beta1: beta1, beta2: beta2, epsilon: epsilon,
                   l2Decay: Decay.isDecoupled ? 0 : settings.weightDecay,
                   learningRate: settings.learningRate, step: settings.step)
    }
}

extension OptimizerBase {
    /// Creates Adam or AdamW over `groups` (see ``AdamRule`` for the update and the parameters;
    /// `weightDecay` `nil` means PyTorch's default for the style: 0 for Adam, 0.01 for AdamW).
    public convenience init<Decay>(_ groups: ParameterGroups, learningRate: Double = 1e-3, beta1: Double = 0.9,
                                   beta2: Double = 0.999, epsilon: Double = 1e-8, weightDecay: Double? = nil)
    where Rule == AdamRule<Decay> {
        self.init(groups, learningRate: learningRate,
                  rule: AdamRule(beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay))
    }
}
