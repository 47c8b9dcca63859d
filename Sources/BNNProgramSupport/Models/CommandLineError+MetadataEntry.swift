extension CommandLineError {
    /// A malformed entry of a metadata JSON object, e.g.
    /// `x.safetensors: metadata 'bnn.configuration' entry 'stage' must be 1 or 2, found '3'`.
    init(file: String, metadataKey: String, entry: String, expected: String, found: String) {
        self.init("\(file): metadata '\(metadataKey)' entry '\(entry)' must be \(expected), found '\(found)'")
    }
}
