import Crypto
import Foundation
import GoModule

/// `warren export -o bundle.tar`: what Warren holds, for a network with no route out.
/// The bundle is a tar of the artifacts in GOPROXY layout (`modules/…`), the tiles of
/// the checksum database's log (`sumdb/<name>/tile/…`) and, last, the manifest
/// (`warren-bundle.json`). For every public module version it carries the database's
/// record and the tiles that prove it in one signed tree head, fetched and authenticated
/// here exactly as the importer and the go command will authenticate them; private
/// versions (those Warren does not verify) carry only their SHA-256.
///
/// With a ledger, a bundle also proves what earlier bundles carried against its newer
/// head, and leaves out the full tiles they carried: bundles are imported in order.
public struct BundleExport: Sendable {
    public struct Report: Sendable, Equatable {
        public var versions = 0
        public var files = 0
        public var bytes: Int64 = 0
        public var records = 0
        public var tiles = 0
        public var tilesCarriedBefore = 0
        public var treeSize: Int64 = 0
    }

    let storage: any ArtifactStorage
    let index: any MetadataIndex
    let checksums: ChecksumDatabases?
    let ledgerPath: String?
    /// Signs the manifest when set (`--sign`: Warren's own checksum-database key).
    let signer: NoteSigner?

    public init(storage: any ArtifactStorage, index: any MetadataIndex, checksums: ChecksumDatabases?, ledgerPath: String?,
                signer: NoteSigner? = nil) {
        self.storage = storage
        self.index = index
        self.checksums = checksums
        self.ledgerPath = ledgerPath
        self.signer = signer
    }

    struct ExportError: Error, CustomStringConvertible {
        let description: String
    }

    /// Writes the versions first stored at or after `since` (nil: all) whose module
    /// `include` accepts.
    /// `fresh` ignores what earlier bundles carried (a bundle that stands alone); the
    /// ledger then starts again from this one.
    public func run(to output: String, since: Double?, sinceText: String?, fresh: Bool = false,
                    include: @Sendable (String) -> Bool = { _ in true }) async throws -> Report {
        var report = Report()
        let versions = try await selectedVersions(since: since, include: include)
        var manifest = BundleManifest(created: ISO8601DateFormatter().string(from: Date()), since: sinceText)
        var ledger = fresh ? BundleLedger() : try ledgerPath.map(BundleLedger.load(path:)) ?? BundleLedger()
        let writer = try TarWriter(path: output)
        do {
            // The checksum database's records and the tiles proving them, first.
            if let verifier = checksums?.verifier {
                let records = try await lookUp(verifier, versions.filter { checksums?.verifies($0.module) == true })
                if !records.isEmpty {
                    let database = try await evidence(verifier, records: records, ledger: &ledger, writer: writer, report: &report)
                    manifest.databases.append(database)
                }
            }
            // The artifacts, streamed and hashed.
            for v in versions {
                var wrote = false
                for kind in [ArtifactKind.info, .mod, .zip] {
                    guard let stored = try await storage.open(.artifact(module: v.module, version: v.version, kind: kind)) else { continue }
                    let path = try BundleManifest.artifactPath(module: v.module, version: v.version, kind: kind)
                    var sha = SHA256()
                    let file = stored.file, size = stored.metadata.size
                    try writer.add(name: path, size: size) { write in
                        try file.readChunks(count: size) { chunk in
                            sha.update(bufferPointer: chunk)
                            try write(chunk)
                        }
                    }
                    manifest.artifacts.append(.init(path: path, module: v.module, version: v.version, kind: kind.rawValue, size: size,
                                                    sha256: Self.hex(sha.finalize()), hash: kind == .info ? nil : stored.metadata.hash))
                    report.files += 1
                    report.bytes += size
                    wrote = true
                }
                if wrote { report.versions += 1 }
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let manifestBytes = Array(try encoder.encode(manifest))
            try writer.add(name: BundleManifest.entryName, bytes: manifestBytes)
            if let signer {
                let text = BundleManifest.signedText(manifestSHA256: Self.hex(SHA256.hash(data: manifestBytes)))
                try writer.add(name: BundleManifest.signatureEntryName, bytes: try signer.sign(text))
            }
            try writer.finish()
        } catch {
            writer.abandon()
            throw error
        }
        if let ledgerPath { try ledger.save(path: ledgerPath) }
        return report
    }

    func selectedVersions(since: Double?, include: @Sendable (String) -> Bool) async throws -> [IndexedVersion] {
        var out: [IndexedVersion] = []
        var after: (module: String, version: String)?
        while true {
            let page = try await index.catalog(after: after, limit: 500)
            out += page.filter { v in include(v.module) && (since.map { v.storedAt >= $0 } ?? true) }
            guard page.count == 500, let last = page.last else { break }
            after = (last.module, last.version)
        }
        return out
    }

    /// Lookups a few at a time (a database far away answers each in a round trip or two),
    /// in the versions' order.
    func lookUp(_ db: ChecksumDatabase, _ versions: [IndexedVersion]) async throws -> [BundleManifest.Record] {
        var records = [BundleManifest.Record?](repeating: nil, count: versions.count)
        try await withThrowingTaskGroup(of: (Int, BundleManifest.Record).self) { group in
            var next = 0
            func start() {
                guard next < versions.count else { return }
                let i = next, v = versions[i]
                next += 1
                group.addTask { (i, try await self.record(db, module: v.module, version: v.version)) }
            }
            for _ in 0..<Self.lookupConcurrency { start() }
            while let (i, record) = try await group.next() {
                records[i] = record
                start()
            }
        }
        return records.compactMap { $0 }
    }

    static let lookupConcurrency = 8

    /// The database's record of one version, verified as any lookup.
    func record(_ db: ChecksumDatabase, module: String, version: String) async throws -> BundleManifest.Record {
        do {
            let (id, text) = try await db.lookupRecord(module: module, version: version)
            return .init(module: module, version: version, id: id, text: String(decoding: text, as: UTF8.self))
        } catch {
            throw ExportError(description: "\(module)@\(version): \(error.description) (a private module? list it in --nosumdb)")
        }
    }

    /// Fetches the head and tiles for `records` (and what earlier bundles carried), writes
    /// the tiles an earlier bundle did not carry, and notes them in the ledger.
    func evidence(_ db: ChecksumDatabase, records: [BundleManifest.Record], ledger: inout BundleLedger,
                  writer: TarWriter, report: inout Report) async throws -> BundleManifest.Database {
        var past = ledger.databases[db.name] ?? BundleLedger.Database()
        let earlierHeads = past.heads.compactMap { note -> TreeHead? in
            guard let opened = try? SignedNote.open(Array(note.utf8), keys: [db.verifierKey]) else { return nil }
            return try? TreeHead(text: opened.text)
        }
        let ids = Array(Set(records.map(\.id)).union(past.records)).sorted()
        let (note, head, tiles) = try await db.evidence(records: ids, earlier: earlierHeads)
        let carried = Set(past.fullTiles)
        var left = 0
        for (tile, data) in tiles.sorted(by: { $0.key.path < $1.key.path }) {
            let path = BundleManifest.tilePath(database: db.name, tile: tile)
            if tile.isFull && carried.contains(path) {
                left += 1
                continue
            }
            try writer.add(name: path, bytes: data)
            if tile.isFull { past.fullTiles.append(path) }
            report.tiles += 1
            report.files += 1
            report.bytes += Int64(data.count)
        }
        let noteText = String(decoding: note, as: UTF8.self)
        let database = BundleManifest.Database(name: db.name, head: noteText, records: records,
                                               earlierHeads: past.heads.filter { $0 != noteText },
                                               earlierRecords: Set(past.records).subtracting(records.map(\.id)).sorted(),
                                               tilesCarriedBefore: left)
        if !past.heads.contains(noteText) { past.heads.append(noteText) }
        past.records = ids
        ledger.databases[db.name] = past
        report.records += records.count
        report.tilesCarriedBefore = left
        report.treeSize = head.size
        return database
    }

    static func hex(_ digest: SHA256.Digest) -> String {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}
