import Foundation
import GoModule

/// Hosted modules (`--hosted` patterns): answered only from what was published here.
///
/// Nothing under a hosted pattern is ever asked of an upstream or of version control, so
/// a module of the same name on a public proxy (a dependency-confusion attempt) never
/// reaches a client. `list` and `@latest` are computed from the published versions, with
/// the go command's own rules (retracted versions listed, not chosen as latest).
extension ModuleProxy {
    /// Whether `module` is under a hosted pattern.
    public func isHosted(_ module: String) -> Bool {
        setting { !$0.hosted.patterns.isEmpty && $0.hosted.matches(module) }
    }

    func serveHosted(_ request: ProxyRequest) async throws(ProxyError) -> ServedArtifact {
        switch request {
        case .list(let module):
            var tagged = try await publishedVersions(module).filter { !PseudoVersion.isPseudoVersion($0) }
            SemVer.sort(&tagged)
            let bytes = tagged.isEmpty ? [] : Array((tagged.joined(separator: "\n") + "\n").utf8)
            return hostedAnswer(bytes, contentType: "text/plain; charset=utf-8")
        case .latest(let module):
            let versions = try await publishedVersions(module)
            guard let info = try await latestInfo(module, among: versions) else { throw Self.notPublished(module, nil) }
            return hostedAnswer(info.bytes, contentType: "application/json")
        case .artifact(let module, let version, .info) where ModuleVersion.canonical(version) != version:
            throw .notFound("\(module)@\(version): hosted modules answer published versions only, not queries")
        case .artifact(let module, let version, let kind):
            do throws(ProxyError) {
                let served = kind == .zip ? try await zip(module: module, version: version, allowFetch: false)
                    : try await immutableSmall(module: module, version: version, kind: kind, allowFetch: false)
                        .served(contentType: kind.contentType, cachePolicy: .immutable)
                // Cached from an upstream before the namespace was hosted: never served as
                // if it had been published.
                guard Self.isPublished(served.origin) else {
                    throw ProxyError.notFound("\(module)@\(version) was cached from an upstream before \(module) was hosted; publish it")
                }
                return served
            } catch where error.kind == .notFound {
                if let tombstone = try await readStored(.tombstone(module: module, version: version)),
                   let record = try? JSONDecoder().decode(Tombstone.self, from: Data(tombstone.bytes)) {
                    throw .notFound("\(module)@\(version) was deleted\(record.reason.map { ": " + $0 } ?? "")", gone: true)
                }
                throw Self.notPublished(module, version)
            }
        }
    }

    /// Every published version of a hosted module (tagged and pseudo), from the metadata
    /// index: shared by replicas, and written only once a version's zip is committed.
    func publishedVersions(_ module: String) async throws(ProxyError) -> [String] {
        guard let index else { throw .internalError("hosted modules need the metadata index") }
        do {
            return try await index.versions(of: module).filter { $0.zipHash != nil && $0.modHash != nil }.map(\.version)
        } catch {
            logger.error("the metadata index failed", metadata: ["module": "\(module)", "error": "\(error)"])
            throw .unavailable("the metadata index is unavailable")
        }
    }

    /// The hosted module with published versions that `path` (a module or package path)
    /// lies in, longest first, as `?go-get=1` answers name it; nil when there is none.
    public func hostedModuleRoot(containing path: String) async -> String? {
        var candidate = Substring(path)
        while !candidate.isEmpty {
            let module = String(candidate)
            if isHosted(module), (try? PathRules.checkModulePath(module)) != nil,
               let versions = try? await publishedVersions(module), !versions.isEmpty {
                return module
            }
            guard let slash = candidate.lastIndex(of: "/") else { break }
            candidate = candidate[..<slash]
        }
        return nil
    }

    func hostedAnswer(_ bytes: [UInt8], contentType: String) -> ServedArtifact {
        let metadata = ArtifactMetadata(size: Int64(bytes.count), hash: Self.contentTag(bytes), storedAt: Self.now(), origin: "hosted")
        // Right now, not for a TTL: a version published a moment ago is listed at once.
        return SmallArtifact(bytes: bytes, metadata: metadata, status: .hit).served(contentType: contentType, cachePolicy: .fresh(seconds: 0))
    }

    /// The stored `.info` of `@latest` among `versions`, by the go command's rules: the
    /// highest release, retractions read from the highest tagged version's go.mod.
    func latestInfo(_ module: String, among versions: [String]) async throws(ProxyError) -> (bytes: [UInt8], metadata: ArtifactMetadata)? {
        guard !versions.isEmpty else { return nil }
        let highest = Self.highestTagged(versions)
        var source: GoModFile?
        if let highest, let stored = try await readStored(.artifact(module: module, version: highest, kind: .mod)) {
            source = try? GoModParser.parse(String(decoding: stored.bytes, as: UTF8.self))
        }
        guard let latest = LatestVersion.choose(from: versions, goMod: { $0 == highest ? source : nil }),
              let info = try await readStored(.artifact(module: module, version: latest, kind: .info)) else { return nil }
        return (info.bytes, info.metadata)
    }

    static func highestTagged(_ versions: [String]) -> String? {
        var tagged = versions.filter { !PseudoVersion.isPseudoVersion($0) }
        SemVer.sort(&tagged)
        return tagged.last(where: { SemVer.prerelease($0).isEmpty }) ?? tagged.last
    }

    static func notPublished(_ module: String, _ version: String?) -> ProxyError {
        .notFound("\(version.map { "\(module)@\($0)" } ?? module) is not published here (a hosted module)")
    }
}
