/// Several optimizers over disjoint parameter sets acting as one, like mlx-swift's
/// `MultiOptimizer`: e.g. binary weights to ``Bop`` and everything else to ``Adam``
/// (``bopForBinaryWeights(_:gamma:threshold:other:)``).
///
/// Setting ``learningRate`` sets it on every route (``Bop`` ignores it). The state of all routes is
/// saved together under the usual `<parameter name>.<slot>` names with one shared `step`.
public final class RoutedOptimizer: Optimizer {
    /// The optimizers, each over its own parameters.
    public let routes: [any Optimizer]

    /// Combines `routes`.
    ///
    /// - Precondition: at least one route, all with the same step count, and no parameter in two routes.
    public init(routes: [any Optimizer]) {
        precondition(!routes.isEmpty, "RoutedOptimizer: at least one route")
        precondition(Set(routes.map(\.stepCount)).count == 1, "RoutedOptimizer: routes at different steps")
        let identities = routes.flatMap { $0.parameters.map(ObjectIdentifier.init) }
        precondition(Set(identities).count == identities.count, "RoutedOptimizer: a parameter is in two routes")
        self.routes = routes
    }

    /// Routes the latent binary weights of `namedParameters` (``ParameterKind/latentBinary``) to
    /// `binary` and the other trainable parameters to `other`.
    public static func routingBinaryWeights(_ namedParameters: [(name: String, parameter: Parameter)],
                                            binary: (ParameterGroups) -> any Optimizer,
                                            other: (ParameterGroups) -> any Optimizer) -> RoutedOptimizer {
        let isBinary = { (entry: (name: String, parameter: Parameter)) in entry.parameter.kind == .latentBinary }
        return RoutedOptimizer(routes: [binary(ParameterGroups(namedParameters.filter(isBinary))),
                                        other(ParameterGroups(namedParameters.filter { !isBinary($0) }))])
    }

    /// Binary weights to ``Bop`` with `gamma` and `threshold`, the rest to `other` (usually ``Adam``).
    public static func bopForBinaryWeights(_ namedParameters: [(name: String, parameter: Parameter)],
                                           gamma: Double = 1e-4, threshold: Double = 1e-8,
                                           other: (ParameterGroups) -> any Optimizer) -> RoutedOptimizer {
        routingBinaryWeights(namedParameters, binary: { Bop($0, gamma: gamma, threshold: threshold) }, other: other)
    }

    /// The first route's learning rate; setting it sets every route's.
    public var learningRate: Double {
        get { routes[0].learningRate }
        set { for route in routes { route.learningRate = newValue } }
    }

    /// The common step count.
    public var stepCount: Int { routes[0].stepCount }

    /// The groups of every route, in route order; setting them hands each route back its own groups.
    public var parameterGroups: [ParameterGroup] {
        get { routes.flatMap(\.parameterGroups) }
        set {
            var offset = 0
            for route in routes {
                let count = route.parameterGroups.count
                precondition(offset + count <= newValue.count, "RoutedOptimizer: fewer groups than the routes hold")
                route.parameterGroups = Array(newValue[offset..<offset + count])
                offset += count
            }
            precondition(offset == newValue.count, "RoutedOptimizer: more groups than the routes hold")
        }
    }

    /// Steps every route.
    public func step() { for route in routes { route.step() } }

    /// Every route's per-parameter slots, then one `step`.
    public func stateTensors() -> [(name: String, tensor: Tensor)] {
        routes.flatMap { $0.stateTensors().filter { $0.name != "step" } } + [routes[0].stateTensors().last!]
    }

    /// Hands each route the slots of its own parameters and the shared `step`.
    ///
    /// - Throws: ``OptimizerStateError/unexpectedTensor(name:)`` for a tensor no route owns, or what a
    ///   route throws; no route changes unless every route accepts its part.
    public func loadState(_ tensors: [String: Tensor]) throws {
        var parts = [[String: Tensor]](repeating: [:], count: routes.count)
        let owners = Dictionary(routes.enumerated().flatMap { index, route in
            route.parameterGroups.flatMap(\.parameters).map { ($0.name, index) }
        }, uniquingKeysWith: { first, _ in first })
        for (name, tensor) in tensors {
            if name == "step" {
                for i in parts.indices { parts[i][name] = tensor }
                continue
            }
            guard let dot = name.lastIndex(of: "."), let owner = owners[String(name[..<dot])] else {
                throw OptimizerStateError.unexpectedTensor(name: name)
            }
            parts[owner][name] = tensor
        }
        let saved = routes.map { $0.stateTensors() }
        do {
            for (route, part) in zip(routes, parts) { try route.loadState(part) }
        } catch {
            for (route, state) in zip(routes, saved) {
                try? route.loadState(Dictionary(state.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a }))
            }
            throw error
        }
    }
}
