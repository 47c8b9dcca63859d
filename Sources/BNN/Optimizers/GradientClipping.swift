/// Gradient clipping by global norm, as `torch.nn.utils.clip_grad_norm_`.
public enum GradientClipping {
    /// The L2 norm of all gradients of `parameters` viewed as one vector (accumulated in `Double`,
    /// returned as `Float`). Buffers contribute nothing.
    public static func globalNorm(of parameters: [Parameter]) -> Float {
        var total = 0.0
        for parameter in parameters where parameter.isTrainable { total += parameter.gradient.squaredNorm() }
        return Float(total.squareRoot())
    }

    /// Scales every gradient by `maxNorm / (norm + 1e-6)` when that factor is below 1, and returns
    /// the norm measured before clipping.
    ///
    /// Matches PyTorch's `clip_grad_norm_(parameters, max_norm)` (norm type 2) to rounding, the
    /// factor being computed in `Float` as PyTorch does. One deliberate difference: when the norm is
    /// not finite the gradients are left unchanged (PyTorch would multiply them by 0 or NaN); the
    /// returned norm lets the caller (or ``DynamicLossScaler``) skip the step.
    @discardableResult
    public static func clipGlobalNorm(_ parameters: [Parameter], maxNorm: Float) -> Float {
        precondition(maxNorm > 0, "GradientClipping: maxNorm must be positive, got \(maxNorm)")
        let norm = globalNorm(of: parameters)
        guard norm.isFinite else { return norm }
        let factor = maxNorm / (norm + 1e-6)
        if factor < 1 {
            for parameter in parameters where parameter.isTrainable { parameter.gradient.scale(by: factor) }
        }
        return norm
    }
}
