/// The naming rule of containers: a child named `""` is inlined, its own parameters and children
/// listed as the container's, so that flat reference names survive a nested layer structure.
enum InlineNaming {
    /// The parameters of the inlined entries.
    static func parameters(of entries: [(name: String, layer: any TensorLayer)]) -> [(name: String, parameter: Parameter)] {
        entries.filter { $0.name.isEmpty }.flatMap { $0.layer.ownParameters }
    }

    /// The named entries, and the children of the inlined ones, in order.
    static func children(of entries: [(name: String, layer: any TensorLayer)]) -> [(name: String, module: any Module)] {
        entries.flatMap { entry -> [(name: String, module: any Module)] in
            entry.name.isEmpty ? entry.layer.children : [(entry.name, entry.layer as any Module)]
        }
    }
}
