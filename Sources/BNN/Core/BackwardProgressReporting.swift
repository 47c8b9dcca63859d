/// A container layer that reports each child layer whose backward pass has finished, while its own
/// backward pass goes on.
///
/// Once a child's ``Layer/backward(_:)`` has returned, the gradients of that child's
/// parameters are final for the step (each layer runs once per backward pass). Data-parallel training
/// uses this to start sending those gradients while the layers before the child are still being
/// differentiated (`GradientAllReducer` in BNNDistributed). ``Sequential`` reports its layers;
/// models built of other containers can adopt the protocol the same way.
public protocol BackwardProgressReporting: AnyObject {
    /// Called on the training thread right after each child's backward pass, with that child; `nil`
    /// (the default) for no report. The closure must be quick: the backward pass waits for it.
    var childBackwardDidFinish: ((any Module) -> Void)? { get set }
}
