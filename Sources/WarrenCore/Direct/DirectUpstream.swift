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
    /// How old a mirror may be for `list` and `@latest` (the engine caches those too).
    let listFreshness: Duration
    private let mirrors = Mutex<[String: GitMirror]>([:])

    public init(dataDirectory: String, listFreshness: Duration = .seconds(10), threadPool: NIOThreadPool = .singleton) {
        self.mirrorsDirectory = dataDirectory + "/vcs"
        self.scratchDirectory = dataDirectory + "/vcs-tmp"
        self.git = GitCommand(threadPool: threadPool)
        self.threadPool = threadPool
        self.listFreshness = listFreshness
        try? FileManager.default.createDirectory(atPath: scratchDirectory, withIntermediateDirectories: true)
    }

    public func fetch(_ path: String) async throws(UpstreamFailure) -> UpstreamResponse {
        let request: ProxyRequest
        do {
            request = try ProxyRequest.parse(rawPath: path)
        } catch {
            throw .notFound(status: 404, message: error.message)
        }
        let module = try locate(request.module)
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
        _ = try await call { () async throws(DirectModule.Failure) in try await module.zip(revision, to: file) }
        // Opened before the scratch name is removed; the open file stays readable.
        return try await FileTreeUpstream(url: "file://" + scratchDirectory, threadPool: threadPool)
            .fetch(String(path.dropFirst(scratchDirectory.count + 1)))
    }

    private func locate(_ modulePath: String) throws(UpstreamFailure) -> DirectModule {
        let location: CodeLocation
        do {
            location = try RepositoryResolver.locate(modulePath)
        } catch {
            throw .notFound(status: 404, message: error.description)
        }
        let mirror = mirrors.withLock { map -> GitMirror in
            if let m = map[location.root] { return m }
            let escaped = (try? PathEscaping.escapePath(location.root)) ?? location.root.replacingOccurrences(of: "/", with: "_")
            let m = GitMirror(location: location, directory: mirrorsDirectory + "/" + escaped + ".git", git: git)
            map[location.root] = m
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
