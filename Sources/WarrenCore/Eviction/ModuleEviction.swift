import GoModule

/// Evicting one module at an operator's request (the console's admin action): the zips of
/// its cached versions, or of one version, go at once. Hosted modules are never evicted
/// (nothing could fetch them back), and neither are pinned ones. Like the automatic
/// eviction, an evicted version is fetched and verified again when someone asks for it.
public struct ModuleEviction: Sendable {
    public enum Refusal: Error, Equatable, CustomStringConvertible {
        case hosted(String)
        case pinned(String)
        case notCached(String)

        public var description: String {
            switch self {
            case .hosted(let m): return "\(m) is hosted here: published versions are never evicted"
            case .pinned(let m): return "\(m) is pinned: unpin it first"
            case .notCached(let m): return "no zip of \(m) is cached"
            }
        }
    }

    let storage: any ArtifactStorage
    let index: any MetadataIndex
    let pins: (any PinStore)?
    let hosted: ModulePathPatterns

    public init(storage: any ArtifactStorage, index: any MetadataIndex, pins: (any PinStore)?, hosted: ModulePathPatterns) {
        self.storage = storage
        self.index = index
        self.pins = pins
        self.hosted = hosted
    }

    /// Removes the cached zips of `module` (only `version`'s when given) and returns the
    /// versions removed with their bytes. `forget` drops each from in-memory caches.
    public func evict(module: String, version: String?, forget: @Sendable (StorageKey) -> Void) async throws -> [(version: String, bytes: Int64)] {
        if !hosted.patterns.isEmpty, hosted.matches(module) { throw Refusal.hosted(module) }
        let pinned = ModulePathPatterns(try await pins?.pins().joined(separator: ",") ?? "")
        if !pinned.patterns.isEmpty, pinned.matches(module) { throw Refusal.pinned(module) }
        let victims = try await index.versions(of: module).filter { $0.zipHash != nil && (version == nil || $0.version == version) }
        guard !victims.isEmpty else { throw Refusal.notCached(version.map { module + "@" + $0 } ?? module) }
        var removed: [(version: String, bytes: Int64)] = []
        for v in victims {
            let key = StorageKey.artifact(module: module, version: v.version, kind: .zip)
            forget(key)
            try await storage.remove(key)
            MetricHandles.counter("warren_cache_evictions_total", [("kind", ArtifactKind.zip.rawValue)]).increment()
            MetricHandles.counter("warren_cache_evicted_bytes_total", []).increment(by: v.zipSize ?? 0)
            removed.append((v.version, v.zipSize ?? 0))
        }
        return removed
    }
}
