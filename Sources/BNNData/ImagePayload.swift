/// One sample as a source hands it to the loader: encoded file bytes, or pixels already in memory.
public enum ImagePayload: Sendable {
    /// The bytes of a JPEG or PNG file (format detected from the bytes).
    case encoded([UInt8])
    /// Decoded pixels.
    case decoded(RGBImage)
}
