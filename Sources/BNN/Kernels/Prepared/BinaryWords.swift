import BNNKernels

/// The 64-bit words that hold the packed signs of `channels` channels: ⌈channels/64⌉
/// (`bnn_binary_words`), the per-pixel and per-tap word count of every packed layout.
///
/// - Parameter channels: a channel count (≥ 0).
/// - Returns: ⌈channels/64⌉.
@inlinable public func binaryWordCount(channels: Int) -> Int { (channels + 63) / 64 }
