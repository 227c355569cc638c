import ArgumentParser
import Foundation
import GoModule
import WarrenCore

/// `warren mirror`: fills Warren's cache ahead of need, through the same engine (and so
/// the same verification) as `warren serve`, on the same storage and database — safe
/// while a server runs on them.
struct MirrorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mirror",
        abstract: "Fetch modules into the cache before anyone asks: module@version, go.mod files (their whole build graph), go.sum files, or the most downloaded.",
        discussion: """
            A go.mod is resolved with minimal version selection from what the upstream serves (its replace and exclude \
            directives apply): every go.mod of the graph is fetched, and the zip of every selected version. What is \
            already stored is skipped, so an interrupted mirror resumes. Versions found deeper in a graph that cannot be \
            had are reported; exit status 1 if a named one (an argument, a go.sum line, a go.mod's own requirement) fails.
            """
    )

    @Argument(help: ArgumentHelp("module@version, a go.mod file, or a go.sum file.", valueName: "source"))
    var sources: [String] = []
    @Option(help: ArgumentHelp("Also the N most downloaded versions (from the index): each module's list and @latest refreshed, and its latest version fetched.", valueName: "n"))
    var top: Int?
    @Option(help: ArgumentHelp("Import a developer's module cache: every version under DIR/cache/download (GOMODCACHE), verified as any fetch; the upstream is that tree unless --upstream says otherwise.", valueName: "dir"))
    var modcache: String?
    @Option(help: ArgumentHelp("Go toolchains to mirror (golang.org/toolchain, as GOTOOLCHAIN downloads them): go1.22.0,go1.21.5…", valueName: "versions"))
    var toolchains: String?
    @Option(help: ArgumentHelp("The platforms of --toolchains. (default: linux-amd64,linux-arm64,darwin-amd64,darwin-arm64,windows-amd64)", valueName: "list"))
    var platforms = "linux-amd64,linux-arm64,darwin-amd64,darwin-arm64,windows-amd64"
    @Option(help: ArgumentHelp("Versions fetched at a time. (default: 4)", valueName: "n"))
    var concurrency = 4
    @Option(help: ArgumentHelp("Upstream requests per second at most. (default: no limit)", valueName: "n"))
    var rate: Double?
    @Flag(name: .customLong("progress"), inversion: .prefixedNo, help: "A progress bar on a terminal (default), or a log line per version.")
    var progress = isatty(2) != 0
    @OptionGroup var options: StorageOptions
    @Option(help: ArgumentHelp("As for warren serve.", valueName: "list"))
    var upstream: String?
    @OptionGroup var verification: VerificationOptions

    func validate() throws {
        if sources.isEmpty && top == nil && modcache == nil && toolchains == nil {
            throw ValidationError("name what to mirror: module@version, go.mod or go.sum files, --top N, --modcache DIR or --toolchains")
        }
        if concurrency < 1 { throw ValidationError("--concurrency must be at least 1") }
    }

    func run() async throws {
        var flags = options.flags
        let upstream = upstream ?? modcache.map { "file://" + URL(fileURLWithPath: $0).standardizedFileURL.path + "/cache/download" }
        if let upstream { flags["upstream"] = upstream }
        verification.apply(to: &flags)
        let (_, engine) = try await MirrorEngine.open(command: "mirror", flags: flags, configFile: options.config)
        let mirror = ModuleMirror(proxy: engine.proxy, concurrency: concurrency, rate: rate)
        var items: [ModuleMirror.Item] = []
        var planFailures: [(item: ModuleMirror.Item, reason: String)] = []
        do {
            for source in sources {
                let (found, failed) = try await Self.items(from: source, mirror: mirror)
                items += found
                planFailures += failed
            }
            if let top {
                items += try await Self.topItems(top, proxy: engine.proxy, index: engine.opened.index)
            }
            if let modcache {
                items += try ModuleCacheTree.items(in: modcache + "/cache/download")
            }
            if let toolchains {
                items += Self.toolchainItems(toolchains, platforms: platforms)
            }
        } catch {
            printError("warren mirror: \(error)")
            await engine.shutdown()
            throw ExitCode(2)
        }
        items = Self.merge(items)
        let bar = ProgressBar(enabled: progress, unit: "versions")
        let report = await mirror.fetch(items) { done, total, item, failure in
            if progress {
                bar.update(done, total)
            } else {
                print("\(done)/\(total) \(item.module)@\(item.version)\(item.zip ? "" : " (go.mod)")" + (failure.map { ": " + $0 } ?? ""))
            }
        }
        bar.finish()
        await engine.shutdown()
        let failures = planFailures + report.failures
        for f in failures {
            printError("warren mirror: \(f.item.module)@\(f.item.version)\(f.item.zip ? "" : " (go.mod only)"): \(f.reason)")
        }
        let zips = items.filter(\.zip).count
        print("mirrored \(report.fetched) of \(items.count) versions (\(zips) with zips); \(failures.count) failed")
        if failures.contains(where: \.item.named) { throw ExitCode(1) }
    }

    /// What one argument names.
    static func items(from source: String, mirror: ModuleMirror) async throws -> ([ModuleMirror.Item], [(item: ModuleMirror.Item, reason: String)]) {
        let name = (source as NSString).lastPathComponent
        if name == "go.sum" || name.hasSuffix(".sum") {
            let text = try String(contentsOfFile: source, encoding: .utf8)
            return (ModuleMirror.items(goSum: text), [])
        }
        if name == "go.mod" || name.hasSuffix(".mod") {
            let text = try String(contentsOfFile: source, encoding: .utf8)
            let file = try GoModParser.parse(text, fileName: source)
            let graph = await mirror.graph(of: file)
            return (graph.items, graph.failures)
        }
        guard let at = source.lastIndex(of: "@") else {
            throw ValidationError("\(source): want module@version, or a go.mod or go.sum file")
        }
        let module = String(source[..<at]), version = String(source[source.index(after: at)...])
        try PathRules.checkModulePath(module)
        guard ModuleVersion.canonical(version) == version else { throw ValidationError("\(source): \(version) is not a canonical version") }
        // The version itself, and the build graph its go.mod describes.
        var main = GoModFile()
        main.requirements = [GoModFile.Requirement(path: module, version: version, indirect: false)]
        let graph = await mirror.graph(of: main)
        return (graph.items, graph.failures)
    }

    /// The modules of the N most downloaded versions: each one's latest version.
    static func topItems(_ n: Int, proxy: ModuleProxy, index: any MetadataIndex) async throws -> [ModuleMirror.Item] {
        var modules: [String] = []
        for v in try await index.mostDownloaded(limit: n) where !modules.contains(v.module) { modules.append(v.module) }
        var out: [ModuleMirror.Item] = []
        for module in modules {
            _ = try? await proxy.serve(.list(module: module))
            guard let latest = try? await proxy.serve(.latest(module: module)),
                  let info = try? JSONSerialization.jsonObject(with: Data(try await ModuleMirror.bytes(latest))) as? [String: Any],
                  let version = info["Version"] as? String else { continue }
            out.append(ModuleMirror.Item(module: module, version: version, zip: true))
        }
        return out
    }

    /// golang.org/toolchain versions as the go command names them:
    /// `v0.0.1-go1.22.0.linux-amd64`.
    static func toolchainItems(_ versions: String, platforms: String) -> [ModuleMirror.Item] {
        let gos = versions.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let targets = platforms.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return gos.flatMap { go in
            targets.map { ModuleMirror.Item(module: ChecksumDatabases.toolchainModule, version: "v0.0.1-\(go.hasPrefix("go") ? go : "go" + go).\($0)", zip: true) }
        }
    }

    /// One item per version; the zip wanted if any source wanted it.
    static func merge(_ items: [ModuleMirror.Item]) -> [ModuleMirror.Item] {
        var merged: [String: ModuleMirror.Item] = [:]
        var order: [String] = []
        for item in items {
            let key = item.module + "@" + item.version
            guard var known = merged[key] else {
                merged[key] = item
                order.append(key)
                continue
            }
            known.zip = known.zip || item.zip
            known.named = known.named || item.named
            merged[key] = known
        }
        return order.compactMap { merged[$0] }
    }
}
