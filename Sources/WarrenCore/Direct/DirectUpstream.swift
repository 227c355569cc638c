import Foundation
import GoModule
import NIOCore
import NIOPosix
import Synchronization

/// `direct` in the upstream chain: modules fetched from their repositories with git
/// and packaged by GoModule, answering in GOPROXY layout like any other upstream, so
/// the engine verifies and stores what it builds exactly as it does a proxy's answers.
///
/// Served: `list` (tags), `@latest`, `.info` of versions and of queries (branches, tags,
/// commit prefixes), `.mod` and `.zip` of tagged versions and pseudo-versions.
public final class DirectUpstream: Upstream {
    public let name = "direct"
    let mirrorsDirectory: String
    let scratchDirectory: String
    let git: GitCommand
    let threadPool: NIOThreadPool
    /// How old a mirror may be for `list`, `@latest` and queries (the engine caches those
    /// answers too, for the same time: `--list-ttl`).
    let listFreshness: Duration
    /// What it was made with (a reload keeps this upstream when that is unchanged).
    let configuration: DirectConfiguration
    private let mirrors = Mutex<[String: GitMirror]>([:])
    /// How long a mirror's idle cat-file processes are kept.
    static let readerIdleTime: Duration = .seconds(60)

    let resolver: RepositoryResolver
    /// Upstreams for `mod` go-import tags, by URL.
    private let delegates = Mutex<[String: any Upstream]>([:])
    private let makeDelegate: (@Sendable (String) -> any Upstream)?

    /// `threadPool` runs git and waits on it (by default a pool of its own, larger than
    /// the core count: those threads mostly wait).
    /// `discovery` enables `?go-get=1` lookups (without it only the well-known hosts and
    /// `.git` paths resolve); `makeDelegate` builds the upstream for a `mod` tag's proxy.
    public init(dataDirectory: String, configuration: DirectConfiguration = DirectConfiguration(), discovery: DiscoveryHTTP? = nil,
                makeDelegate: (@Sendable (String) -> any Upstream)? = nil,
                listFreshness: Duration = .seconds(10), threadPool: NIOThreadPool? = nil) {
        self.mirrorsDirectory = dataDirectory + "/vcs"
        self.scratchDirectory = dataDirectory + "/vcs-tmp"
        let threadPool = threadPool ?? GitCommand.blockingPool
        self.git = GitCommand(environment: GitCredentialHelper.environment(configuration.credentials, base: ProcessInfo.processInfo.environment),
                              threadPool: threadPool)
        self.threadPool = threadPool
        self.listFreshness = listFreshness
        self.configuration = configuration
        self.resolver = RepositoryResolver(
            discovery: discovery.map { ImportDiscovery(http: $0, insecure: configuration.insecurePatterns, credentials: configuration.credentials) },
            vcsRules: configuration.vcsRules, privatePatterns: configuration.privatePatterns, insecurePatterns: configuration.insecurePatterns)
        self.makeDelegate = makeDelegate
        try? FileManager.default.createDirectory(atPath: scratchDirectory, withIntermediateDirectories: true)
        // Which cat-file this git has is asked once, now, rather than by the first request.
        let git = self.git
        threadPool.submit { _ in _ = GitCommand.hasBatchCommand(git) }
        // Mirrors not read for a while give their cat-file processes back.
        Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: Self.readerIdleTime / 2)
                guard let self else { return }
                let all = self.mirrors.withLock { Array($0.values) }
                let pool = self.threadPool
                _ = try? await pool.runIfActive { for m in all { m.readers.closeIdle(olderThan: Self.readerIdleTime) } }
            }
        }
    }

    public func fetch(_ request: ProxyRequest) async throws(UpstreamFailure) -> UpstreamResponse {
        let module: DirectModule
        switch try await route(request.module) {
        case .git(let location):
            module = mirror(for: location)
        case .proxy(let url):
            // A `mod` go-import tag: that proxy serves the module, in the same layout.
            let delegate = delegates.withLock { map -> any Upstream in
                if let d = map[url] { return d }
                let d = makeDelegate?(url)
                    ?? UnavailableUpstream(name: url, failure: .notFound(status: 404, message: "\(request.module): go-import names a proxy (\(url)) and none can be reached"))
                map[url] = d
                return d
            }
            return try await delegate.fetch(request)
        }
        switch request {
        case .list:
            try await refresh(module, maxAge: listFreshness)
            let list = try await call { () async throws(DirectModule.Failure) in try await module.versions() }
            return Self.bytes(Array(list.map { $0.version + "\n" }.joined().utf8))
        case .latest:
            try await refresh(module, maxAge: listFreshness)
            let list = try await call { () async throws(DirectModule.Failure) in try await module.versions() }
            let releases = list.filter { SemVer.prerelease($0.version).isEmpty }
            if let latest = releases.last ?? list.last {
                return Self.bytes(try await call { () async throws(DirectModule.Failure) in try await module.info(latest) })
            }
            // No tags: the default branch head's pseudo-version.
            return try await query(module, "HEAD")
        case .artifact(_, let version, .info) where ModuleVersion.canonical(version) != version:
            try await refresh(module, maxAge: listFreshness)
            return try await query(module, version)
        case .artifact(_, let version, let kind):
            let revision = try await revision(module, version)
            switch kind {
            case .info:
                // As the go command's Stat does: a version whose go.mod cannot serve this
                // module path is not a version of it.
                _ = try await call { () async throws(DirectModule.Failure) in try await module.goMod(revision) }
                return Self.bytes(try await call { () async throws(DirectModule.Failure) in try await module.info(revision) })
            case .mod:
                return Self.bytes(try await call { () async throws(DirectModule.Failure) in try await module.goMod(revision) })
            case .zip:
                return try await zip(module, revision)
            }
        }
    }

    /// A version's revision (a tag, or a pseudo-version's commit); a version the mirror
    /// does not know triggers one fetch.
    private func revision(_ module: DirectModule, _ version: String) async throws(UpstreamFailure) -> DirectModule.Revision {
        let find: () async throws(DirectModule.Failure) -> DirectModule.Revision = {
            PseudoVersion.isPseudoVersion(version) ? try await module.pseudoRevision(version) : try await module.revision(version)
        }
        if let known = try? await find() { return known }
        try await refresh(module, maxAge: .zero)
        return try await call(find)
    }

    /// `.info` for a query: the version it resolves to, and the ref that named it.
    private func query(_ module: DirectModule, _ query: String) async throws(UpstreamFailure) -> UpstreamResponse {
        let (revision, ref) = try await call { () async throws(DirectModule.Failure) in try await module.resolve(query: query) }
        _ = try await call { () async throws(DirectModule.Failure) in try await module.goMod(revision) }
        return Self.bytes(try await call { () async throws(DirectModule.Failure) in try await module.info(revision, ref: ref) })
    }

    private func zip(_ module: DirectModule, _ revision: DirectModule.Revision) async throws(UpstreamFailure) -> UpstreamResponse {
        let path = scratchDirectory + "/" + UUID().uuidString + ".zip"
        let file: WritableFile
        do {
            file = try WritableFile(creating: path)
        } catch {
            throw .failed(message: "direct: cannot create a scratch file")
        }
        defer { unlink(path) }
        let built = try await call { () async throws(DirectModule.Failure) in try await module.zip(revision, to: file) }
        // Opened before the scratch name is removed; the open file stays readable.
        var response = try await FileTreeUpstream.stream(path, name: name, threadPool: threadPool)
        response.builtZipHash = built.hash
        return response
    }

    private func route(_ modulePath: String) async throws(UpstreamFailure) -> RepositoryRoute {
        do {
            return try await resolver.route(modulePath)
        } catch {
            if error.forbidden { throw .refused(status: 403, message: error.description) }
            throw error.notFound ? .notFound(status: 404, message: error.description) : .failed(message: error.description)
        }
    }

    /// The module in its repository's mirror (one mirror per repository URL).
    private func mirror(for location: CodeLocation) -> DirectModule {
        let mirror = mirrors.withLock { map -> GitMirror in
            let key = location.url
            if let m = map[key] { return m }
            let escaped = (try? PathEscaping.escapePath(location.root)) ?? location.root.replacingOccurrences(of: "/", with: "_")
            let m = GitMirror(location: location, directory: mirrorsDirectory + "/" + escaped + ".git", git: git)
            map[key] = m
            return m
        }
        return DirectModule(location: location, mirror: mirror)
    }

    private func refresh(_ module: DirectModule, maxAge: Duration) async throws(UpstreamFailure) {
        do {
            try await module.mirror.refresh(maxAge: maxAge)
        } catch {
            throw Self.classify(error.summary, module: module.location)
        }
    }

    /// git's complaint about a repository, as a GOPROXY answer: gone → 404, no access →
    /// 403, anything else → a failure.
    static func classify(_ summary: String, module: CodeLocation) -> UpstreamFailure {
        let lower = summary.lowercased()
        let message = "\(module.modulePath): git fetch \(GitCommand.redact(module.url)): \(summary)"
        if lower.contains("not found") || lower.contains("does not exist") || lower.contains("does not appear to be a git repository") {
            return .notFound(status: 404, message: message)
        }
        if lower.contains("authentication") || lower.contains("permission denied") || lower.contains("could not read username")
            || lower.contains("403") || lower.contains("401") {
            return .refused(status: 403, message: message)
        }
        return .failed(message: message)
    }

    private func call<T>(_ body: () async throws(DirectModule.Failure) -> T) async throws(UpstreamFailure) -> T {
        do {
            return try await body()
        } catch {
            throw error.notFound ? .notFound(status: 404, message: error.description) : .failed(message: error.description)
        }
    }

    static func bytes(_ bytes: [UInt8]) -> UpstreamResponse {
        let buffer = ByteBuffer(bytes: bytes)
        return UpstreamResponse(contentLength: Int64(bytes.count), body: UpstreamBody {
            let position = ReadPosition()
            return UpstreamBody.Iterator {
                if position.offset > 0 { return nil }
                position.offset = 1
                return buffer
            }
        })
    }
}
