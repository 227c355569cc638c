import Crypto
import Foundation
import GoModule

/// `warren import bundle.tar`: a bundle from `warren export -o`, checked whole before
/// anything is stored, offline:
///
/// - every entry is one the manifest names (no more, none missing), with its size and
///   SHA-256; zips are checked by the go command's rules and their `h1:` recomputed, as
///   is every go.mod's;
/// - each database's tree head is signed by the key this Warren is configured with, and
///   consistent with every head it verified or imported before and with the heads earlier
///   bundles carried;
/// - every record, and every record earlier bundles carried, is proved in that head from
///   the bundle's tiles (or tiles imported before), every byte of every tile authenticated
///   as the go command will authenticate it, and no tile is left over;
/// - every public version (one this Warren verifies) has its record, and its zip's and
///   go.mod's `h1:` are the record's.
///
/// The first failure refuses the bundle, naming the entry. Then the evidence is kept (so
/// `/sumdb/` answers lookups and tiles offline) and the artifacts are stored.
public struct BundleImport: Sendable {
    public struct Report: Sendable, Equatable {
        public var versions = 0
        public var stored = 0
        public var alreadyHeld = 0
        public var records = 0
        public var tiles = 0
        /// The name of the key whose signature was checked, if one was.
        public var signedBy: String?
    }

    public struct Refused: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    let storage: any ArtifactStorage
    let checksums: ChecksumDatabases?
    let hosted: ModulePathPatterns
    /// Where zips are unpacked for checking (inside the data directory).
    let scratch: String
    /// When not empty, the bundle must be signed by one of these (`--bundle-key`).
    let bundleKeys: [VerifierKey]

    public init(storage: any ArtifactStorage, checksums: ChecksumDatabases?, hosted: ModulePathPatterns, scratch: String,
                bundleKeys: [VerifierKey] = []) {
        self.storage = storage
        self.checksums = checksums
        self.hosted = hosted
        self.scratch = scratch
        self.bundleKeys = bundleKeys
    }

    struct CheckedArtifact {
        var artifact: BundleManifest.Artifact
        var kind: ArtifactKind
        var hash: String
        /// This Warren holds it already, with these bytes.
        var held: Bool
    }

    struct CheckedDatabase {
        var db: ChecksumDatabase
        var note: [UInt8]
        var head: TreeHead
        var tiles: [LogTile: [UInt8]]
        var records: [BundleManifest.Record]
    }

    public func run(bundle path: String) async throws -> Report {
        let tar: TarIndex
        do {
            tar = try TarIndex(path: path)
        } catch {
            throw Refused("\(path): \(error)")
        }
        guard let manifestEntry = tar.entries[BundleManifest.entryName] else {
            throw Refused("\(path) has no \(BundleManifest.entryName): not a Warren bundle")
        }
        let manifestBytes: [UInt8]
        let manifest: BundleManifest
        do {
            manifestBytes = try tar.read(manifestEntry, limit: 256 << 20)
            manifest = try JSONDecoder().decode(BundleManifest.self, from: Data(manifestBytes))
        } catch {
            throw Refused("\(BundleManifest.entryName): \(error)")
        }
        let signedBy = try checkSignature(tar, manifestBytes: manifestBytes)
        guard manifest.format == BundleManifest.formatName else {
            throw Refused("\(BundleManifest.entryName): format \(GoQuote.string(manifest.format)), want \(GoQuote.string(BundleManifest.formatName))")
        }
        var expected = Set([BundleManifest.entryName, BundleManifest.signatureEntryName])
        let databases = try await checkDatabases(manifest, tar, expected: &expected)
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let artifacts = try await checkArtifacts(manifest, tar, databases: databases, expected: &expected)
        if let extra = tar.names.first(where: { !expected.contains($0) }) {
            throw Refused("\(extra): not named by the manifest")
        }

        // Everything checked: keep the evidence, then store the artifacts.
        var report = Report()
        report.signedBy = signedBy
        for d in databases {
            try await d.db.keepCarried(note: d.note, head: d.head, tiles: d.tiles,
                                       records: d.records.map { ($0.module, $0.version, $0.id, Array($0.text.utf8)) })
            report.records += d.records.count
            report.tiles += d.tiles.count
        }
        var versions = Set<String>()
        for a in artifacts {
            versions.insert(a.artifact.module + "@" + a.artifact.version)
            if try await store(a, tar) { report.stored += 1 } else { report.alreadyHeld += 1 }
        }
        report.versions = versions.count
        return report
    }

    // MARK: - Checking the signature

    /// With `bundleKeys`, the bundle must carry a signature by one of them over exactly
    /// this manifest; returns the signer's name. Without, a signature is not needed (and
    /// not checked: nothing says whose it should be).
    func checkSignature(_ tar: TarIndex, manifestBytes: [UInt8]) throws -> String? {
        guard !bundleKeys.isEmpty else { return nil }
        let names = bundleKeys.map(\.name).joined(separator: ", ")
        guard let entry = tar.entries[BundleManifest.signatureEntryName] else {
            throw Refused("\(BundleManifest.signatureEntryName): missing, and this import requires a bundle signed by \(names)")
        }
        let note: SignedNote
        do {
            note = try SignedNote.open(try tar.read(entry, limit: 1 << 16), keys: bundleKeys)
        } catch {
            throw Refused("\(BundleManifest.signatureEntryName): not signed by \(names): \(error)")
        }
        let want = BundleManifest.signedText(manifestSHA256: BundleExport.hex(SHA256.hash(data: manifestBytes)))
        guard note.text == want else {
            throw Refused("\(BundleManifest.signatureEntryName): signs another manifest than this bundle's \(BundleManifest.entryName)")
        }
        return note.verifiedBy.first ?? names
    }

    // MARK: - Checking the evidence

    func checkDatabases(_ manifest: BundleManifest, _ tar: TarIndex, expected: inout Set<String>) async throws -> [CheckedDatabase] {
        var out: [CheckedDatabase] = []
        // With --sumdb off nothing is verified here: the proofs are neither checked nor kept.
        guard checksums?.verifier != nil else {
            for d in manifest.databases {
                for name in tar.names where name.hasPrefix("sumdb/" + d.name + "/") { expected.insert(name) }
            }
            return out
        }
        for d in manifest.databases {
            guard let db = checksums?.database(named: d.name) else {
                throw Refused("sumdb/\(d.name): this Warren does not verify against \(d.name) (--sumdb); its proofs cannot be checked")
            }
            out.append(try await checkDatabase(d, db, tar, expected: &expected))
        }
        return out
    }

    /// One database's evidence: its head, its tiles, every record and earlier head.
    func checkDatabase(_ d: BundleManifest.Database, _ db: ChecksumDatabase, _ tar: TarIndex,
                       expected: inout Set<String>) async throws -> CheckedDatabase {
        let note = Array(d.head.utf8)
        let head: TreeHead
        do {
            head = try TreeHead(text: try SignedNote.open(note, keys: [db.verifierKey]).text)
        } catch {
            throw Refused("\(BundleManifest.entryName): the tree head of \(d.name): \(error)")
        }
        // Tiles the bundle carries, size-checked by their names.
        var carried: [LogTile: [UInt8]] = [:]
        let prefix = "sumdb/" + d.name + "/"
        for name in tar.names where name.hasPrefix(prefix) {
            guard let tile = LogTile(path: String(name.dropFirst(prefix.count))), tile.level >= 0,
                  tile.height == ChecksumDatabase.tileHeight, let entry = tar.entries[name] else {
                throw Refused("\(name): not a hash tile of \(d.name)")
            }
            let data = try tar.read(entry, limit: tile.width * 32)
            guard data.count == tile.width * 32 else { throw Refused("\(name): \(data.count) bytes, want \(tile.width * 32)") }
            carried[tile] = data
            expected.insert(name)
        }
        var earlier: [TreeHead] = []
        for (i, text) in d.earlierHeads.enumerated() {
            guard let opened = try? SignedNote.open(Array(text.utf8), keys: [db.verifierKey]), let h = try? TreeHead(text: opened.text) else {
                throw Refused("\(BundleManifest.entryName): earlier head \(i + 1) of \(d.name) is not signed by its key")
            }
            earlier.append(h)
        }
        let planned = try plannedTiles(records: d.records.map(\.id) + d.earlierRecords, earlier: earlier, head: head)
        var read: [LogTile: [UInt8]] = carried
        for tile in planned where read[tile] == nil {
            if let held = await db.heldTile(tile) { read[tile] = held }
        }
        func hashes(_ indexes: [Int64], in tree: TreeHead, what: String) throws -> [TransparencyLog.Hash] {
            do {
                return try TransparencyLog.authenticatedHashes(indexes: indexes, head: tree, height: ChecksumDatabase.tileHeight) { tile in
                    guard let data = read[tile] else {
                        throw TransparencyLog.ProofError("\(prefix)\(tile.path) is missing (neither in the bundle nor imported before: import the earlier bundles first)")
                    }
                    return data
                }
            } catch {
                throw Refused("\(what): \(error)")
            }
        }
        // Consistency: with what this Warren knows, and with what earlier bundles carried.
        var olderHeads: [(TreeHead, String)] = []
        if let known = await db.knownHead() { olderHeads.append((known, "the tree this Warren verified or imported before")) }
        for h in earlier { olderHeads.append((h, "an earlier bundle's tree of \(h.size) records")) }
        for (old, what) in olderHeads {
            if old.size > head.size {
                throw Refused("\(BundleManifest.entryName): the tree of \(d.name) (\(head.size) records) is older than \(what) (\(old.size)): import bundles in the order they were written")
            }
            if old.size == head.size {
                guard old.hash == head.hash else { throw Refused("\(BundleManifest.entryName): \(d.name) has two different trees of \(head.size) records: the log has forked") }
                continue
            }
            let proof = try TransparencyLog.treeProof(oldSize: old.size, size: head.size) { try hashes($0, in: head, what: "\(what)") }
            do {
                try TransparencyLog.checkTree(proof: proof, size: head.size, treeHash: head.hash, oldSize: old.size, oldHash: old.hash)
            } catch {
                throw Refused("\(BundleManifest.entryName): \(what) is not contained in the bundle's tree of \(head.size) records: \(error)")
            }
        }
        // Every record, new and earlier, proved in the head.
        for r in d.records {
            let what = "the record of \(r.module)@\(r.version) (\(r.id))"
            guard r.id >= 0, r.id < head.size else { throw Refused("\(what) is outside the tree of \(head.size) records") }
            let lines = r.text.split(separator: "\n")
            guard r.text.hasSuffix("\n"), !lines.isEmpty,
                  lines.allSatisfy({ $0.hasPrefix(r.module + " " + r.version + " ") || $0.hasPrefix(r.module + " " + r.version + "/go.mod ") }) else {
                throw Refused("\(what) names another module or is malformed")
            }
            let leaf = try hashes([TransparencyLog.storedHashIndex(level: 0, n: r.id)], in: head, what: what)
            guard leaf == [TransparencyLog.recordHash(Array(r.text.utf8))] else {
                throw Refused("\(what) is not the record the tree holds at \(r.id)")
            }
        }
        for id in d.earlierRecords {
            guard id >= 0, id < head.size else { throw Refused("earlier record \(id) is outside the tree of \(head.size) records") }
            _ = try hashes([TransparencyLog.storedHashIndex(level: 0, n: id)], in: head, what: "earlier record \(id)")
        }
        // No tile beyond what the proofs read: nothing unproved is kept.
        let plannedSet = Set(planned)
        if let extra = carried.keys.first(where: { !plannedSet.contains($0) }) {
            throw Refused("\(prefix)\(extra.path): not needed by any proof in the bundle")
        }
        return CheckedDatabase(db: db, note: note, head: head, tiles: carried, records: d.records)
    }

    /// The tiles the go command reads to check these records and the consistency of these
    /// earlier trees with `head`.
    func plannedTiles(records: [Int64], earlier: [TreeHead], head: TreeHead) throws -> [LogTile] {
        var indexes = records.filter { $0 >= 0 && $0 < head.size }.map { TransparencyLog.storedHashIndex(level: 0, n: $0) }
        for h in earlier where h.size > 0 && h.size < head.size {
            indexes += ChecksumDatabase.treeProofIndexes(oldSize: h.size, size: head.size)
        }
        do {
            return try TransparencyLog.tileReadPlan(indexes: indexes, size: head.size, height: ChecksumDatabase.tileHeight).tiles
        } catch {
            throw Refused("\(BundleManifest.entryName): \(error)")
        }
    }

    // MARK: - Checking the artifacts

    func checkArtifacts(_ manifest: BundleManifest, _ tar: TarIndex, databases: [CheckedDatabase],
                        expected: inout Set<String>) async throws -> [CheckedArtifact] {
        var records: [String: String] = [:]
        if let verifier = checksums?.verifier, let d = databases.first(where: { $0.db.name == verifier.name }) {
            for r in d.records {
                for line in r.text.split(separator: "\n") {
                    let f = line.split(separator: " ")
                    if f.count == 3 { records[f[0] + " " + f[1]] = String(f[2]) }
                }
            }
        }
        var out: [CheckedArtifact] = []
        for a in manifest.artifacts {
            guard let kind = ArtifactKind(rawValue: a.kind), [.info, .mod, .zip].contains(kind),
                  (try? ModuleVersion(path: a.module, version: a.version)) != nil, ModuleVersion.canonical(a.version) == a.version,
                  (try? BundleManifest.artifactPath(module: a.module, version: a.version, kind: kind)) == a.path else {
                throw Refused("\(a.path): the manifest's module, version or kind do not match its name")
            }
            guard !hosted.matches(a.module) else { throw Refused("\(a.path): \(a.module) is hosted here (--hosted); publish it instead") }
            guard let entry = tar.entries[a.path] else { throw Refused("\(a.path): named by the manifest but missing") }
            guard entry.size == a.size else { throw Refused("\(a.path): \(entry.size) bytes, the manifest says \(a.size)") }
            expected.insert(a.path)
            var sha = SHA256()
            var hash: String
            if kind == .zip {
                let staged = scratch + "/" + UUID().uuidString + ".zip"
                let out = try WritableFile(creating: staged)
                try tar.stream(entry) { chunk in
                    sha.update(bufferPointer: chunk)
                    try out.write(chunk)
                }
                guard BundleExport.hex(sha.finalize()) == a.sha256 else { throw Refused("\(a.path): its SHA-256 is not the manifest's") }
                do {
                    hash = try ModuleZipChecker.verify(module: a.module, version: a.version, zipPath: staged).hash
                } catch {
                    throw Refused("\(a.path): not a valid module zip: \(error)")
                }
                unlink(staged)
            } else {
                let bytes = try tar.read(entry, limit: 16 << 20)
                sha.update(data: bytes)
                guard BundleExport.hex(sha.finalize()) == a.sha256 else { throw Refused("\(a.path): its SHA-256 is not the manifest's") }
                if kind == .mod {
                    hash = Hash1.hashGoMod(bytes)
                } else {
                    struct Info: Decodable { var Version: String }
                    guard let info = try? JSONDecoder().decode(Info.self, from: Data(bytes)), info.Version == a.version else {
                        throw Refused("\(a.path): not the .info of \(a.version)")
                    }
                    hash = ModuleProxy.contentTag(bytes)
                }
            }
            if kind != .info, checksums?.verifies(a.module) == true {
                let name = a.module + " " + a.version + (kind == .mod ? "/go.mod" : "")
                guard let want = records[name] else {
                    throw Refused("\(a.path): no checksum-database record for \(a.module)@\(a.version) in the bundle, and this Warren verifies it")
                }
                guard want == hash else { throw Refused("\(a.path): its h1: is \(hash), the checksum database has \(want)") }
            } else if kind != .info, let claimed = a.hash, claimed != hash {
                throw Refused("\(a.path): its h1: is \(hash), the manifest says \(claimed)")
            }
            // Artifacts never change: other bytes already held here refuse the bundle now,
            // before anything of it is stored.
            let key = StorageKey.artifact(module: a.module, version: a.version, kind: kind)
            let held = try await storage.open(key)
            if let held, kind != .info, held.metadata.hash != hash {
                throw Refused("\(a.path): this Warren holds other bytes for it (\(held.metadata.hash))")
            }
            out.append(CheckedArtifact(artifact: a, kind: kind, hash: hash, held: held != nil))
        }
        return out
    }

    // MARK: - Storing

    /// Stores one checked artifact; false when it was held already (with the same bytes:
    /// other bytes were refused by the checks).
    func store(_ a: CheckedArtifact, _ tar: TarIndex) async throws -> Bool {
        guard !a.held, let entry = tar.entries[a.artifact.path] else { return false }
        let key = StorageKey.artifact(module: a.artifact.module, version: a.artifact.version, kind: a.kind)
        let metadata = ArtifactMetadata(size: a.artifact.size, hash: a.hash, storedAt: Date().timeIntervalSince1970, origin: "bundle")
        if a.kind != .zip {
            try await storage.writeSmall(key, bytes: try tar.read(entry, limit: 16 << 20), metadata: metadata)
            return true
        }
        let staging = try await storage.makeStaging(key)
        do {
            try tar.stream(entry) { try staging.writer.write($0) }
            try await storage.commit(staging, metadata: metadata)
        } catch {
            await storage.discard(staging)
            throw error
        }
        return true
    }
}
