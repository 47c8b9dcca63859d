extension Parameter {
    /// `tensor`, shaped like ``value`` (memory layout), converted to the checkpoint layout that
    /// ``diskValue()`` uses, so optimizer and EMA state are stored the way PyTorch would store them.
    func toDiskLayout(_ tensor: Tensor) -> Tensor {
        precondition(tensor.shape == value.shape, "Parameter: state shape \(tensor.shape) != \(value.shape)")
        switch layout {
        case .plain: return tensor
        case .convolutionOHWI: return tensor.permuted([0, 3, 1, 2])
        case .channelBroadcast: return tensor.reshaped(diskShape)
        }
    }

    /// `tensor`, in checkpoint layout (shape ``diskShape``), converted back to memory layout.
    func fromDiskLayout(_ tensor: Tensor) -> Tensor {
        precondition(tensor.shape == diskShape, "Parameter: disk shape \(tensor.shape) != \(diskShape)")
        switch layout {
        case .plain: return tensor
        case .convolutionOHWI: return tensor.permuted([0, 2, 3, 1])
        case .channelBroadcast: return tensor.reshaped(value.shape)
        }
    }
}
