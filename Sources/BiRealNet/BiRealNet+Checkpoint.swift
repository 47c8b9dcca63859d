import BNN
import Foundation

extension BiRealNet {
    /// Loads weights and BatchNorm statistics from a safetensors checkpoint with PyTorch `state_dict`
    /// names, as the reference, our trainer or `tools/reference/convert_pth_to_safetensors.py` write them.
    ///
    /// Accepted beyond the exact names: a `module.` prefix (from `DataParallel`), and the official Bi-Real
    /// PyTorch code's flat binary weights `…binary_conv.weights` of shape [O·I·3·3, 1], reshaped
    /// row-major to O×I×3×3. The extra tensors of our training checkpoints (optimizer state) are not
    /// model tensors and are skipped.
    ///
    /// - Parameters:
    ///   - url: The `.safetensors` file.
    ///   - strict: Require every model parameter to be in the file and every model tensor of the file to
    ///     belong to the model.
    /// - Returns: What was loaded, missing and unexpected.
    /// - Throws: ``BNN/CheckpointError`` or ``BNN/SafeTensorsError`` naming the file and the tensor, with the
    ///   expected and found shape or dtype.
    @discardableResult
    public func loadWeights(from url: URL, strict: Bool = true) throws -> CheckpointLoadReport {
        try loadWeights(from: Checkpoint(contentsOf: url), strict: strict)
    }

    /// Loads weights from an opened checkpoint; see ``loadWeights(from:strict:)-(URL,_)``.
    @discardableResult
    public func loadWeights(from checkpoint: Checkpoint, strict: Bool = true) throws -> CheckpointLoadReport {
        try loadPyTorchWeights(from: checkpoint, strict: strict)
    }
}
