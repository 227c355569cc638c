import GoModule

/// What an air-gapped bundle says it holds (`warren-bundle.json`, its last entry): every
/// artifact with its size and SHA-256, and per checksum database the signed tree head,
/// the records of the bundle's public module versions, and what earlier bundles of the
/// same exporter carried (their heads and record ids), which this bundle's tiles also
/// prove against its head. Nothing in it is trusted on its own: an import recomputes every
/// hash and proof, and only the database's signature on the head is taken as given.
public struct BundleManifest: Codable, Sendable, Equatable {
    public static let formatName = "warren-bundle 1"
    public static let entryName = "warren-bundle.json"
    /// A signed note over the manifest's SHA-256 (`warren export --sign`): with it, an
    /// importer that names the key (`--bundle-key`) knows the whole bundle — private
    /// modules included — is what that Warren wrote.
    public static let signatureEntryName = "warren-bundle.sig"

    /// The text the signature covers.
    public static func signedText(manifestSHA256: String) -> String {
        "warren bundle\nsha256 " + manifestSHA256 + "\n"
    }

    public var format = Self.formatName
    /// When it was written (RFC 3339).
    public var created: String
    /// The `--since` it was cut with, if any.
    public var since: String?
    public var databases: [Database] = []
    public var artifacts: [Artifact] = []

    public struct Database: Codable, Sendable, Equatable {
        public var name: String
        /// The signed tree head (a note) everything below is proved against.
        public var head: String
        public var records: [Record]
        /// Heads earlier bundles carried: the tiles prove each consistent with `head`.
        public var earlierHeads: [String]
        /// Records earlier bundles carried: the tiles prove them in `head` too, so clients
        /// that have seen this head can still verify them.
        public var earlierRecords: [Int64]
        /// Full tiles an earlier bundle carried and this one leaves out.
        public var tilesCarriedBefore: Int
    }

    public struct Record: Codable, Sendable, Equatable {
        public var module: String
        public var version: String
        public var id: Int64
        /// The record's lines as the database serves them (each ends in a newline).
        public var text: String
    }

    public struct Artifact: Codable, Sendable, Equatable {
        /// The entry name (`modules/<escaped module>/@v/<escaped version>.<kind>`).
        public var path: String
        public var module: String
        public var version: String
        public var kind: String
        public var size: Int64
        public var sha256: String
        /// The go.sum hash of a zip or go.mod (`h1:…`), what the exporter stored.
        public var hash: String?
    }

    public static func artifactPath(module: String, version: String, kind: ArtifactKind) throws -> String {
        "modules/" + (try PathEscaping.escapePath(module)) + "/@v/" + (try PathEscaping.escapeVersion(version)) + "." + kind.rawValue
    }

    public static func tilePath(database: String, tile: LogTile) -> String {
        "sumdb/" + database + "/" + tile.path
    }
}
