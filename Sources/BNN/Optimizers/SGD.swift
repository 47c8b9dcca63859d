/// Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and L2 weight
/// decay, with the exact semantics of `torch.optim.SGD`.
public typealias SGD = OptimizerBase<SGDRule>

/// The state of ``SGDRule``: the momentum buffer (absent without momentum).
public struct SGDState: OptimizerParameterState {
    /// The velocity `b`, shaped like the parameter; `nil` when momentum is 0.
    public var momentumBuffer: Tensor?

    /// `[momentumBuffer]`, or empty without momentum.
    public var slots: [Tensor] {
        get { momentumBuffer.map { [$0] } ?? [] }
        set { momentumBuffer = newValue.first }
    }
}

/// The update of `torch.optim.SGD` for one parameter, in `Float` arithmetic with the scalar
/// coefficients rounded from `Double` as PyTorch does:
///
/// ```
/// d = g + λ·θ                         (λ = weight decay, when λ ≠ 0)
/// b = d                               on the first step
/// b = μ·b + (1 − τ)·d                 afterwards (μ = momentum, τ = dampening)
/// d = d + μ·b  (Nesterov)  or  d = b  (when μ ≠ 0)
/// θ = θ − η·d
/// ```
public struct SGDRule: OptimizerRule {
    /// Momentum factor μ (0 disables the momentum buffer).
    public var momentum: Double
    /// Dampening τ of the momentum accumulation.
    public var dampening: Double
    /// Whether to use Nesterov momentum (needs μ > 0 and τ = 0).
    public var nesterov: Bool
    /// The default L2 penalty λ added to the gradient.
    public var weightDecay: Double

    /// Creates the rule; Nesterov momentum requires `momentum > 0` and `dampening == 0`.
    public init(momentum: Double = 0, dampening: Double = 0, nesterov: Bool = false, weightDecay: Double = 0) {
        precondition(momentum >= 0, "SGD: negative momentum \(momentum)")
        precondition(weightDecay >= 0, "SGD: negative weight decay \(weightDecay)")
        precondition(!nesterov || (momentum > 0 && dampening == 0),
                     "SGD: Nesterov momentum requires a momentum and zero dampening")
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
        self.weightDecay = weightDecay
    }

    /// `["momentum_buffer"]` with momentum, else empty.
    public var stateSlotNames: [String] { momentum != 0 ? ["momentum_buffer"] : [] }

    /// A zero momentum buffer when momentum is used (replaced by the gradient on the first step).
    public func makeState(for parameter: Parameter) -> SGDState {
        SGDState(momentumBuffer: momentum != 0 ? Tensor(zeros: parameter.value.shape) : nil)
    }

    /// Applies one SGD step to `parameter`.
    public func update(_ parameter: Parameter, state: inout SGDState, settings: OptimizerStepSettings) {
        let decay = Float(settings.weightDecay)
        let negativeRate = Float(-settings.learningRate)
        guard momentum != 0 else {
            state.momentumBuffer = nil
            parameter.gradient.withUnsafeBufferPointer { g in
                parameter.value.withUnsafeMutableBufferPointer { p in
                    for i in 0..<p.count {
                        var d = g[i]
                        if decay != 0 { d = d + decay * p[i] }
                        p[i] = p[i] + negativeRate * d
                    }
                }
            }
            return
        }
        let first = settings.step == 1 || state.momentumBuffer?.shape != parameter.value.shape
        // Take the buffer out of the state so it is uniquely referenced while it is updated.
        var buffer = (first ? nil : state.momentumBuffer) ?? Tensor(zeros: parameter.value.shape)
        state.momentumBuffer = nil
        let mu = Float(momentum)
        let keep = Float(1 - dampening)
        let nesterov = self.nesterov
        parameter.gradient.withUnsafeBufferPointer { g in
            buffer.withUnsafeMutableBufferPointer { b in
                parameter.value.withUnsafeMutableBufferPointer { p in
                    for i in 0..<p.count {
                        var d = g[i]
                        if decay != 0 { d = d + decay * p[i] }
                        b[i] = first ? d : b[i] * mu + keep * d
                        d = nesterov ? d + mu * b[i] : b[i]
                        p[i] = p[i] + negativeRate * d
                    }
                }
            }
        }
        state.momentumBuffer = buffer
    }
}

extension OptimizerBase where Rule == SGDRule {
    /// Creates SGD over `groups` (see ``SGDRule`` for the update and the parameters).
    public convenience init(_ groups: ParameterGroups, learningRate: Double, momentum: Double = 0,
                            dampening: Double = 0, nesterov: Bool = false, weightDecay: Double = 0) {
        self.init(groups, learningRate: learningRate,
                  rule: SGDRule(momentum: momentum, dampening: dampening, nesterov: nesterov,
                                weightDecay: weightDecay))
    }
}
