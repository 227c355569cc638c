import Foundation
import GoModule

/// Fills the cache ahead of need: module versions, whole build graphs read from a go.mod
/// (minimal version selection over what the proxy serves, no go command needed), go.sum
/// lines, or the most downloaded modules. Everything goes through the engine, so it is
/// verified and stored exactly as a client's request would be, and what is already stored
/// costs a lookup: an interrupted mirror resumes where it stopped.
public struct ModuleMirror: Sendable {
    /// One thing to fetch.
    public struct Item: Sendable, Hashable {
        public var module: String
        public var version: String
        /// The zip too (else only `.info` and `.mod`: a version the graph reads but does
        /// not build).
        public var zip: Bool
        /// Named by the user (an argument, a go.sum line, a go.mod's own requirement),
        /// rather than found deeper in a graph: failing it fails the run.
        public var named: Bool

        public init(module: String, version: String, zip: Bool, named: Bool = true) {
            self.module = module
            self.version = version
            self.zip = zip
            self.named = named
        }
    }

    public struct Report: Sendable {
        public var fetched: Int = 0
        public var failures: [(item: Item, reason: String)] = []
    }

    let proxy: ModuleProxy
    let concurrency: Int
    /// Requests per second at most (nil: as fast as `concurrency` allows).
    let rate: Double?

    public init(proxy: ModuleProxy, concurrency: Int = 4, rate: Double? = nil) {
        self.proxy = proxy
        self.concurrency = max(1, concurrency)
        self.rate = rate
    }

    // MARK: - What to fetch

    /// The build graph of a go.mod: `.info` and `.mod` of every version it reads, the zip
    /// of every selected version. Versions whose go.mod cannot be had are reported.
    public func graph(of goMod: GoModFile) async -> (items: [Item], failures: [(item: Item, reason: String)]) {
        let graph = await ModuleGraph.walk(main: goMod, concurrency: concurrency) { node in
            let served = try await proxy.serve(.artifact(module: node.path, version: node.version, kind: .mod))
            return try GoModParser.parse(String(decoding: try await Self.bytes(served), as: UTF8.self), fileName: "\(node.path)@\(node.version)/go.mod")
        }
        let selected = Set(graph.selected)
        let named = Set(goMod.requirements.compactMap { goMod.replaced($0.path, $0.version).map { ModuleGraph.Node(path: $0.path, version: $0.version) } })
        let item = { (node: ModuleGraph.Node) in
            Item(module: node.path, version: node.version, zip: selected.contains(node), named: named.contains(node))
        }
        var items = graph.visited.map(item)
        // A selected version is in `visited` unless its go.mod failed; keep its zip anyway.
        for node in graph.selected where !graph.visited.contains(node) { items.append(item(node)) }
        return (items, graph.failures.map { (item($0.node), $0.reason) })
    }

    /// go.sum lines: `M V h1:` (the zip) and `M V/go.mod h1:` (the go.mod only).
    public static func items(goSum text: String) -> [Item] {
        var zips = Set<Item>(), mods = Set<Item>()
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 3 else { continue }
            let module = String(fields[0])
            if fields[1].hasSuffix("/go.mod") {
                mods.insert(Item(module: module, version: String(fields[1].dropLast("/go.mod".count)), zip: false))
            } else {
                zips.insert(Item(module: module, version: String(fields[1]), zip: true))
            }
        }
        let zipped = Set(zips.map { "\($0.module)@\($0.version)" })
        return (Array(zips) + mods.filter { !zipped.contains("\($0.module)@\($0.version)") })
            .sorted { ($0.module, $0.version, $0.zip ? 1 : 0) < ($1.module, $1.version, $1.zip ? 1 : 0) }
    }

    // MARK: - Fetching

    /// Fetches every item (its `.info`, `.mod` and, when asked, its zip, waiting until the
    /// zip is stored), `concurrency` at a time; `progress` is told after each.
    public func fetch(_ items: [Item], progress: @escaping @Sendable (Int, Int, Item, String?) -> Void) async -> Report {
        var report = Report()
        let pacer = Pacer(rate: rate)
        await withTaskGroup(of: (Item, String?).self) { group in
            var next = 0, done = 0
            func start() {
                while next < items.count, next - done < concurrency {
                    let item = items[next]
                    next += 1
                    group.addTask {
                        do {
                            try await fetch(item, pacer: pacer)
                            return (item, nil)
                        } catch {
                            return (item, "\(error)")
                        }
                    }
                }
            }
            start()
            while let (item, failure) = await group.next() {
                done += 1
                if let failure { report.failures.append((item, failure)) } else { report.fetched += 1 }
                progress(done, items.count, item, failure)
                start()
            }
        }
        return report
    }

    func fetch(_ item: Item, pacer: Pacer) async throws {
        let kinds: [ArtifactKind] = item.zip ? [.info, .mod, .zip] : [.info, .mod]
        for kind in kinds {
            await pacer.wait()
            let served = try await proxy.serve(.artifact(module: item.module, version: item.version, kind: kind))
            if case .download(let download) = served.body {
                // A cold zip: done once it is verified and stored.
                if case .failure(let error) = await download.outcome() { throw error }
                await download.waitUntilSettled()
            }
        }
    }

    /// The bytes of a small answer.
    public static func bytes(_ served: ServedArtifact) async throws -> [UInt8] {
        switch served.body {
        case .bytes(let buffer):
            return Array(buffer.readableBytesView)
        case .file(let file, let size):
            var out = [UInt8](repeating: 0, count: Int(size))
            var offset = 0
            while offset < out.count {
                let n = try out.withUnsafeMutableBytes { try file.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[offset...]), at: Int64(offset)) }
                if n == 0 { break }
                offset += n
            }
            return Array(out.prefix(offset))
        case .download:
            throw ProxyError.internalError("a go.mod arrived as a download")
        }
    }
}

/// At most `rate` starts per second, spread evenly.
actor Pacer {
    let interval: Duration?
    var nextStart = ContinuousClock.now

    init(rate: Double?) {
        interval = rate.flatMap { $0 > 0 ? .nanoseconds(Int64(1e9 / $0)) : nil }
    }

    func wait() async {
        guard let interval else { return }
        let now = ContinuousClock.now
        let start = max(now, nextStart)
        nextStart = start + interval
        if start > now { try? await Task.sleep(until: start, clock: .continuous) }
    }
}
