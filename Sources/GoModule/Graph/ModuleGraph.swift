/// The module requirement graph of a main module, walked the way the go command's minimal
/// version selection reads it: every version any go.mod in the graph requires is visited
/// (its go.mod read), and the build list is the highest version of each module path seen.
///
/// The main module's `replace` and `exclude` directives apply (as they do for the go
/// command; those of dependencies are ignored). A version replaced by a directory is not
/// fetched. A requirement on an excluded version is dropped, as the go command has done
/// since Go 1.16 (before, it took the next higher version from the module's list). The
/// walk reads the whole (unpruned) graph, which holds everything the go command's pruned
/// graph reads, so a cache filled from it serves the go command offline.
public struct ModuleGraph: Sendable {
    public struct Node: Sendable, Hashable {
        public var path: String
        public var version: String

        public init(path: String, version: String) {
            self.path = path
            self.version = version
        }
    }

    /// Every module version whose go.mod the graph reads (after replacement).
    public var visited: [Node]
    /// The build list: the selected version of each module path (after replacement).
    public var selected: [Node]
    /// Versions whose go.mod could not be read, with the reason.
    public var failures: [(node: Node, reason: String)]

    /// Walks the graph from `main`'s requirements, reading each go.mod through `goMod`
    /// with at most `concurrency` reads at a time.
    public static func walk(main: GoModFile, concurrency: Int = 8,
                            goMod: @escaping @Sendable (Node) async throws -> GoModFile) async -> ModuleGraph {
        let excluded = Set(main.excludes.map { Node(path: $0.path, version: $0.version) })
        var seen = Set<Node>()
        var highest: [String: String] = [:]
        var visited: [Node] = []
        var failures: [(node: Node, reason: String)] = []
        var frontier = main.requirements.map { Node(path: $0.path, version: $0.version) }
        while !frontier.isEmpty {
            // The next layer: requirements not seen, not excluded, resolved through replace.
            var layer: [(original: Node, target: Node?)] = []
            for node in frontier where !seen.contains(node) && !excluded.contains(node) {
                seen.insert(node)
                if let current = highest[node.path], SemVer.compare(current, node.version) >= 0 {} else { highest[node.path] = node.version }
                layer.append((node, main.replaced(node.path, node.version).map { Node(path: $0.path, version: $0.version) }))
            }
            frontier = []
            var index = 0
            await withTaskGroup(of: (Node, Result<GoModFile, any Error>).self) { group in
                var running = 0
                func next() {
                    while running < max(1, concurrency), index < layer.count {
                        let target = layer[index].target
                        index += 1
                        guard let target else { continue }
                        running += 1
                        group.addTask { (target, await Result(catching: { try await goMod(target) })) }
                    }
                }
                next()
                while let (target, result) = await group.next() {
                    running -= 1
                    visited.append(target)
                    switch result {
                    case .success(let file):
                        frontier += file.requirements.map { Node(path: $0.path, version: $0.version) }
                    case .failure(let error):
                        failures.append((target, "\(error)"))
                    }
                    next()
                }
            }
        }
        let selected = highest.keys.sorted().compactMap { path -> Node? in
            guard let version = highest[path], let target = main.replaced(path, version) else { return nil }
            return Node(path: target.path, version: target.version)
        }
        return ModuleGraph(visited: visited.sorted { ($0.path, $0.version) < ($1.path, $1.version) }, selected: selected, failures: failures)
    }
}

extension Result where Failure == any Error {
    /// The outcome of an async throwing body (the standard library has only the synchronous one).
    public init(catching body: () async throws -> Success) async {
        do {
            self = .success(try await body())
        } catch {
            self = .failure(error)
        }
    }
}
