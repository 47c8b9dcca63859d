extension ModelArchitecture {
    /// The command-line options that describe an architecture, for programs that read a checkpoint.
    public static let options: [CommandLineArguments.Option] = [
        .init("arch", help: "checkpoints: \(names.joined(separator: ", ")) (default: the checkpoint's own, else birealnet18)"),
        .init("num-classes", help: "checkpoints: classes of the classifier (default: the checkpoint's own, else 1000)"),
        .init("widths", help: "checkpoints: four stage widths, e.g. 16,32,64,128 (default: the checkpoint's own, else 64,128,256,512)"),
        .init("blocks", help: "checkpoints: Bi-Real Net blocks per stage, e.g. 4,4,4,4 (default: the checkpoint's own or the architecture's)"),
        .init("stem", help: "checkpoints: imagenet (224-pixel input) or small (28–64 pixels) (default: the checkpoint's own, else imagenet)"),
        .init("variant", help: "checkpoints: reference or paper (default: the checkpoint's own, else reference)"),
    ]

    /// The architecture `arguments` describe: `stored` (a checkpoint's own) or the defaults, with
    /// every flag given overriding its part.
    ///
    /// - Throws: `CommandLineError` naming the flag for a malformed value.
    public static func resolve(_ arguments: CommandLineArguments, stored: ModelArchitecture?) throws -> ModelArchitecture {
        var result = stored ?? ModelArchitecture(name: "birealnet18", classes: 1000)
        if arguments.has("arch") { result.name = try arguments.choice("arch", names, default: result.name) }
        result.classes = try arguments.integer("num-classes", default: result.classes, in: 1...1_000_000)
        if let widths = try fourIntegers(arguments, "widths") { result.widths = widths }
        if let blocks = try fourIntegers(arguments, "blocks") { result.blocks = blocks }
        result.stem = try arguments.choice("stem", default: result.stem)
        result.variant = try arguments.choice("variant", default: result.variant)
        return result
    }

    private static func fourIntegers(_ arguments: CommandLineArguments, _ flag: String) throws -> [Int]? {
        guard let text = arguments.string(flag) else { return nil }
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        let values = parts.compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 4, values.count == 4, values.allSatisfy({ (1...1_000_000).contains($0) }) else {
            throw CommandLineError("--\(flag) must be four integers in 1...1000000 separated by commas, like 16,32,64,128; got '\(text)'")
        }
        return values
    }
}
