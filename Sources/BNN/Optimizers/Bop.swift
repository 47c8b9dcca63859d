/// Bop, the latent-free optimizer for binary weights (Helwegen et al., NeurIPS 2019; Larq's `Bop`),
/// as an ``OptimizerBase`` rule: `Bop(ParameterGroups(binaryWeights))`.
public typealias Bop = OptimizerBase<BopRule>

/// The state of ``BopRule``: the exponential moving average of the gradient.
public struct BopState: OptimizerParameterState {
    /// The gradient moving average `m` (Larq's slot `m`), shaped like the parameter.
    public var movingAverage: Tensor

    /// `[movingAverage]`.
    public var slots: [Tensor] {
        get { [movingAverage] }
        set {
            precondition(newValue.count == 1, "BopState: expected 1 slot, found \(newValue.count)")
            movingAverage = newValue[0]
        }
    }
}

/// Bop's update of binary weights, with Larq's semantics: with adaptivity rate γ and threshold τ,
///
/// ```
/// m = m + γ·(g − m)
/// w = −sign(w)   where w·m > τ      (the gradient has agreed with the weight's sign long enough)
/// w =  sign(w)   otherwise          (sign(0) = +1)
/// ```
///
/// The weights are ±1 after the first step; a latent value is never kept. Bop has no learning rate:
/// it ignores the scheduled rate and the groups' multipliers and weight decay, so route only binary
/// weights to it (``RoutedOptimizer``) and the real-valued parameters to Adam.
public struct BopRule: OptimizerRule {
    /// The adaptivity rate γ of the gradient moving average (Larq's default 1e-4).
    public var gamma: Double
    /// The flip threshold τ (Larq's default 1e-8).
    public var threshold: Double

    /// Creates the rule.
    ///
    /// - Precondition: `0 < gamma ≤ 1` and `threshold ≥ 0`.
    public init(gamma: Double = 1e-4, threshold: Double = 1e-8) {
        precondition(gamma > 0 && gamma <= 1 && threshold >= 0, "Bop: gamma must lie in (0, 1], threshold ≥ 0")
        self.gamma = gamma
        self.threshold = threshold
    }

    /// `["m"]`.
    public var stateSlotNames: [String] { ["m"] }
    /// 0 (Bop applies no weight decay).
    public var weightDecay: Double { 0 }

    /// A zero moving average.
    public func makeState(for parameter: Parameter) -> BopState {
        BopState(movingAverage: Tensor(zeros: parameter.value.shape))
    }

    /// Updates the moving average, then flips the weights whose product with it exceeds τ.
    public func update(_ parameter: Parameter, state: inout BopState, settings: OptimizerStepSettings) {
        let gamma = Float(self.gamma), threshold = Float(self.threshold)
        parameter.gradient.withUnsafeBufferPointer { g in
            state.movingAverage.withUnsafeMutableBufferPointer { m in
                parameter.value.withUnsafeMutableBufferPointer { w in
                    for i in 0..<w.count {
                        m[i] += gamma * (g[i] - m[i])
                        let sign: Float = w[i] < 0 ? -1 : 1
                        w[i] = w[i] * m[i] > threshold ? -sign : sign
                    }
                }
            }
        }
    }
}

extension OptimizerBase where Rule == BopRule {
    /// Creates Bop over `groups` (see ``BopRule``).
    public convenience init(_ groups: ParameterGroups, gamma: Double = 1e-4, threshold: Double = 1e-8) {
        self.init(groups, learningRate: 0, rule: BopRule(gamma: gamma, threshold: threshold))
    }
}
