import GoModule

/// What Warren stores, addressed so that a key can never name a file outside the storage
/// root: every component is a validated, case-encoded module path or version.
public enum StorageKey: Sendable, Hashable, CustomStringConvertible {
    /// An immutable artifact of a canonical version.
    case artifact(module: String, version: String, kind: ArtifactKind)
    /// The last good `list` answer (mutable).
    case list(module: String)
    /// The last good `@latest` answer (mutable).
    case latest(module: String)
    /// The last good answer to a version query such as `master.info` (mutable).
    case query(module: String, query: String)
    /// A full tile of a checksum database's log, kept once verified against a signed tree
    /// head (full tiles never change). The database name is a validated host-like name.
    case sumdbTile(database: String, tile: LogTile)
    /// The largest signed tree head of a checksum database verified so far, as its signed
    /// note: shared through storage, so replicas check every head against the largest any
    /// of them has seen and a forked log is caught whichever sees the fork.
    case sumdbHead(database: String)
    /// A checksum-database record carried in by an air-gapped bundle (`id`, newline, the
    /// record's lines), proved against the carried tree head at import: what `/lookup/`
    /// answers offline.
    case sumdbRecord(database: String, module: String, version: String)
    /// The signed tree head every carried record and carried tile is proved against (the
    /// largest imported).
    case sumdbCarriedHead(database: String)
    /// What is left of a hosted version an admin deleted (its hashes, who, when, why): the
    /// version never comes back with other bytes.
    case tombstone(module: String, version: String)
    /// A small piece of state every replica shares through storage (`follow.since`: where
    /// following another proxy's feed stopped), so that whichever replica takes its turn
    /// next, or a replica started afresh, goes on from there. Names are `[a-z0-9.-]+`.
    case sharedState(String)
    /// Never stored: names a job replicas take turns at through the fetch coordinator
    /// (`maintenance("eviction")`: one replica evicts at a time).
    case maintenance(String)

    /// The path below the storage root. The layout of immutable artifacts and lists is the
    /// GOPROXY layout, so a data directory can itself serve as a `file://` upstream.
    public var relativePath: String {
        switch self {
        case .artifact(let m, let v, let kind):
            return escaped(m) + "/@v/" + escapedVersion(v) + "." + kind.rawValue
        case .list(let m):
            return escaped(m) + "/@v/list"
        case .latest(let m):
            return escaped(m) + "/@latest"
        case .query(let m, let q):
            return escaped(m) + "/@query/" + escapedVersion(q) + ".info"
        case .sumdbTile(let db, let tile):
            // As a proxy serves it, so the data dir stays a valid GOPROXY tree.
            return "sumdb/" + db + "/" + tile.path
        case .sumdbHead(let db):
            return "sumdb/" + db + "/verified-head"
        case .sumdbRecord(let db, let m, let v):
            return "sumdb/" + db + "/lookup/" + escaped(m) + "@" + escapedVersion(v)
        case .sumdbCarriedHead(let db):
            return "sumdb/" + db + "/carried-head"
        case .tombstone(let m, let v):
            return escaped(m) + "/@v/" + escapedVersion(v) + ".deleted"
        case .sharedState(let name):
            return "state/" + (Self.isStateName(name) ? name : "invalid-name")
        case .maintenance(let job):
            return "maintenance/" + job
        }
    }

    /// The artifact a storage path names (`<escaped module>/@v/<escaped version>.<kind>`),
    /// or nil for anything else (lists, tiles, temporary files). The inverse of
    /// `relativePath` for artifacts: what rebuilding the index and copying walk.
    public static func artifact(atPath relative: String) -> StorageKey? {
        guard let marker = relative.range(of: "/@v/", options: .backwards) else { return nil }
        let file = relative[marker.upperBound...]
        guard let dot = file.lastIndex(of: "."), let kind = ArtifactKind(rawValue: String(file[file.index(after: dot)...])),
              let module = try? PathEscaping.unescapePath(String(relative[..<marker.lowerBound])),
              let version = try? PathEscaping.unescapeVersion(String(file[..<dot])),
              ModuleVersion.canonical(version) == version else { return nil }
        let key = StorageKey.artifact(module: module, version: version, kind: kind)
        return key.relativePath == relative ? key : nil
    }

    public var isImmutable: Bool {
        switch self {
        case .artifact, .sumdbTile, .sumdbRecord, .tombstone: return true
        case .list, .latest, .query, .sumdbHead, .sumdbCarriedHead, .sharedState, .maintenance: return false
        }
    }

    public var description: String { relativePath }

    static func isStateName(_ name: String) -> Bool {
        !name.isEmpty && !name.hasPrefix(".") && name.utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2E || $0 == 0x2D }
    }

    private func escaped(_ module: String) -> String {
        // Keys are only built from validated requests; a failure here is a programming
        // error, and the placeholder still cannot escape the root.
        (try? PathEscaping.escapePath(module)) ?? "invalid-module"
    }

    private func escapedVersion(_ v: String) -> String {
        (try? PathEscaping.escapeVersion(v)) ?? "invalid-version"
    }
}
