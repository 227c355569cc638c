import GoModule

/// One module version as the metadata index records it: where it came from, the `h1:`
/// of its zip and go.mod, the zip's size, when Warren first stored it, and how often and
/// how lately its zip was downloaded.
public struct IndexedVersion: Sendable, Equatable {
    public var module: String
    public var version: String
    /// The upstream it came from (its display name, never with credentials).
    public var origin: String?
    public var zipHash: String?
    public var modHash: String?
    public var zipSize: Int64?
    /// When any artifact of it was first stored (seconds since 1970): its place in the feed.
    public var storedAt: Double
    /// Zip downloads served (by every replica), as far as they have been written.
    public var downloads: Int64
    /// The latest zip download (seconds since 1970), if any.
    public var lastAccess: Double?

    public init(module: String, version: String, origin: String? = nil, zipHash: String? = nil, modHash: String? = nil,
                zipSize: Int64? = nil, storedAt: Double, downloads: Int64 = 0, lastAccess: Double? = nil) {
        self.module = module
        self.version = version
        self.origin = origin
        self.zipHash = zipHash
        self.modHash = modHash
        self.zipSize = zipSize
        self.storedAt = storedAt
        self.downloads = downloads
        self.lastAccess = lastAccess
    }
}

/// One module as the console lists it: how many versions are stored and what they add up to.
public struct IndexedModule: Sendable, Equatable {
    public var module: String
    public var versions: Int
    /// Zip downloads of all its versions.
    public var downloads: Int64
    /// Bytes of its stored zips.
    public var zipBytes: Int64
    /// When its newest version was first stored (seconds since 1970).
    public var lastStored: Double

    public init(module: String, versions: Int, downloads: Int64, zipBytes: Int64, lastStored: Double) {
        self.module = module
        self.versions = versions
        self.downloads = downloads
        self.zipBytes = zipBytes
        self.lastStored = lastStored
    }
}

/// The metadata index: every module version Warren has stored, for the feeds
/// (`/index`, `/catalog`), for answering when every upstream is down, and for the
/// features that need to know what is stored without walking storage.
///
/// Storage stays the source of truth: the index is filled as artifacts are stored (see
/// `IndexingStorage`) and can be rebuilt from storage at any time. Backends: SQLite, a
/// file in the data directory (the embedded default), and PostgreSQL, shared by replicas.
public protocol MetadataIndex: Sendable {
    /// Brings the schema up to date: versioned steps, each applied once, safe when
    /// several replicas start at the same moment.
    func migrate() async throws
    /// Records a stored artifact of a canonical version. Recording the same artifact
    /// again is harmless; the earliest `storedAt` is kept.
    func recordStored(module: String, version: String, kind: ArtifactKind, metadata: ArtifactMetadata) async throws
    /// Records that an artifact was removed from storage (evicted, or a deleted hosted
    /// version): a version without its zip is no longer listed, and one without zip and
    /// go.mod is forgotten.
    func recordRemoved(module: String, version: String, kind: ArtifactKind) async throws
    /// Every version whose zip is stored, least recently used first (last download, else
    /// when it was stored): what eviction walks.
    func cachedZips() async throws -> [IndexedVersion]
    /// The versions of `module` that are stored, in semantic-version order.
    func versions(of module: String) async throws -> [IndexedVersion]
    /// Versions first stored at or after `since`, oldest first, at most `limit` (the
    /// index.golang.org feed).
    func feed(since: Double, limit: Int) async throws -> [IndexedVersion]
    /// Module versions in (module, version) order after the pair `after`, at most `limit`
    /// (Athens's `/catalog`).
    func catalog(after: (module: String, version: String)?, limit: Int) async throws -> [IndexedVersion]
    /// Modules whose path contains `search` (ignoring case; empty: all), in path order
    /// after `after`, at most `limit`: the console's browsing, paged by path.
    func modules(containing search: String, after: String?, limit: Int) async throws -> [IndexedModule]
    /// Adds downloads (and moves last access forward) for versions it records; counts
    /// for versions it does not record are ignored.
    func recordDownloads(_ counts: [DownloadCount]) async throws
    /// The most downloaded versions, most first (ties by module and version), at most
    /// `limit`: popularity for metrics, the console and eviction.
    func mostDownloaded(limit: Int) async throws -> [IndexedVersion]
    /// Whether the database answers (readiness), or why not in one line.
    func readinessProblem() async -> String?
    func close() async
}

extension Array where Element == IndexedVersion {
    /// In semantic-version order, as `list` answers are.
    public func sortedBySemVer() -> [IndexedVersion] {
        sorted { SemVer.compare($0.version, $1.version) < 0 }
    }
}
