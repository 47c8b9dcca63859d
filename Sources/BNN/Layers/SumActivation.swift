/// An activation that can take its input as two addends, add them in its own pass and write its
/// output over the first: the post-activation of a ``Residual`` block, which then neither writes the
/// sum to memory and reads it back nor allocates a tensor for the output. The result equals
/// `forward(a + b, mode:)` exactly, and so does the recording for the backward pass.
protocol SumActivation: TensorLayer {
    /// `a = forward(a + b, mode: mode)` for tensors of equal shape, each sum rounded to `Float` first.
    func forward(adding b: Tensor, to a: inout Tensor, mode: ForwardMode)
}
