import AsyncHTTPClient
import Foundation
import GoModule
import NIOCore

/// A client of one checksum database (sum.golang.org or any server of the same
/// protocol) that believes nothing it is not shown proof of. It is also the source of
/// what Warren relays to clients under `/sumdb/<name>/`, so that nothing unverified is
/// ever cached.
///
/// - A lookup is returned only after the tree head is signed by the configured key, the
///   record is proved to be in that tree with hashes from the database's tiles, and that
///   tree is consistent with every tree head verified before (the latest is remembered in
///   `stateFile`, so a database that forks its log is caught across restarts too).
/// - A full tile is kept for ever only once its hashes are proved to be a subtree of a
///   verified tree; partial tiles, data tiles, lookups and tree heads are kept briefly.
public actor ChecksumDatabase {
    public nonisolated let name: String
    let key: VerifierKey
    let upstream: SumDBUpstream
    let storage: (any ArtifactStorage)?
    let stateFile: String?
    /// Verified lookups and tree heads, and size-checked partial tiles, by request path.
    let brief: ExpiringCache<String, [UInt8]>
    let lookups = SingleFlight<String, [UInt8]>()
    /// The latest tree head verified, and the tiles' height (8 for every Go database).
    private(set) var latest: TreeHead?
    public static let tileHeight = 8

    public struct Failure: Error, CustomStringConvertible {
        public enum Kind: String, Sendable {
            /// The database has no such record (a private module, a version that never was).
            case notFound
            /// The database could not be reached or answered with an error.
            case unavailable
            /// The database contradicted itself or signed something wrong.
            case tampering
        }

        public let kind: Kind
        public let description: String
        public var isTampering: Bool { kind == .tampering }

        init(_ kind: Kind, _ description: String) {
            self.kind = kind
            self.description = description
        }
    }

    /// - Parameters:
    ///   - storage: where verified full tiles are kept (nil: memory only).
    ///   - briefLifetime: seconds that lookups, tree heads and partial tiles are reused.
    public init(key: VerifierKey, url: String, client: HTTPClient, storage: (any ArtifactStorage)? = nil,
                stateFile: String?, timeout: TimeAmount = .seconds(30), briefLifetime: Double = 30) {
        self.name = key.name
        self.key = key
        self.upstream = SumDBUpstream(name: key.name, url: url, client: client, timeout: timeout)
        self.storage = storage
        self.stateFile = stateFile
        self.brief = ExpiringCache(lifetime: briefLifetime)
        if let stateFile, let data = FileManager.default.contents(atPath: stateFile),
           let head = try? TreeHead(text: String(decoding: data, as: UTF8.self)) {
            self.latest = head
        }
    }

    // MARK: - Lookups

    /// The verified go.sum lines of `module@version` (the zip's line, then the go.mod's).
    public func lookup(module: String, version: String) async throws(Failure) -> [String] {
        let body = try await lookupAnswer(module: module, version: version)
        return String(decoding: recordText(body) ?? [], as: UTF8.self).split(separator: "\n").map(String.init)
    }

    /// The verified record of `module@version`: its id in the log and its lines (each
    /// ending in a newline), as an air-gapped bundle carries it.
    public func lookupRecord(module: String, version: String) async throws(Failure) -> (id: Int64, text: [UInt8]) {
        let body = try await lookupAnswer(module: module, version: version)
        guard let newline = body.firstIndex(of: 0x0A), let id = Int64(String(decoding: body[..<newline], as: UTF8.self)),
              let text = recordText(body) else {
            throw Failure(.tampering, "\(name): malformed lookup answer for \(module)@\(version)")
        }
        return (id, text)
    }

    /// The database's whole answer to `/lookup/module@version`, verified.
    public func lookupAnswer(module: String, version: String) async throws(Failure) -> [UInt8] {
        let path: String
        do {
            path = "/lookup/" + (try PathEscaping.escapePath(module)) + "@" + (try PathEscaping.escapeVersion(version))
        } catch {
            throw Failure(.notFound, "cannot look up \(module)@\(version): \(error)")
        }
        if let known = brief.get(path) { return known }
        // A record an air-gapped bundle carried in answers without the database.
        if let carried = await carriedLookup(module: module, version: version) { return carried }
        // One request to the database for concurrent lookups of one version (a client's
        // lookup through /sumdb/ and the verification of its download arrive together).
        do {
            return try await lookups.run(path) { try await self.fetchVerifiedLookup(path, module: module, version: version) }.value
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure(.unavailable, "\(name): \(error)")
        }
    }

    func fetchVerifiedLookup(_ path: String, module: String, version: String) async throws(Failure) -> [UInt8] {
        let body = try await upstream.get(path)
        // An id line, the record's lines, a blank line, the signed tree head.
        guard let firstNewline = body.firstIndex(of: 0x0A),
              let id = Int64(String(decoding: body[..<firstNewline], as: UTF8.self)), id >= 0,
              let record = recordText(body),
              let blank = body[(firstNewline + 1)...].firstRange(of: [0x0A, 0x0A] as [UInt8])
        else { throw Failure(.tampering, "\(name): malformed lookup answer for \(module)@\(version)") }
        let head = try await verifiedHead(Array(body[blank.upperBound...]))
        guard id < head.size else {
            throw Failure(.tampering, "\(name): record \(id) is outside its own tree of \(head.size)")
        }
        try await proved(head: head) { read in
            try TransparencyLog.recordProof(index: id, size: head.size, read: read)
        } check: { proof throws(TransparencyLog.ProofError) in
            try TransparencyLog.checkRecord(proof: proof, size: head.size, treeHash: head.hash, index: id,
                                            recordHash: TransparencyLog.recordHash(record))
        }
        let lines = String(decoding: record, as: UTF8.self).split(separator: "\n")
        guard !lines.isEmpty, lines.allSatisfy({ $0.hasPrefix(module + " " + version + " ") || $0.hasPrefix(module + " " + version + "/go.mod ") }) else {
            throw Failure(.tampering, "\(name): the record for \(module)@\(version) names another module")
        }
        brief.put(path, body)
        return body
    }

    /// The record lines of a lookup answer, up to and including the blank line's first newline.
    private func recordText(_ body: [UInt8]) -> [UInt8]? {
        guard let firstNewline = body.firstIndex(of: 0x0A),
              let blank = body[(firstNewline + 1)...].firstRange(of: [0x0A, 0x0A] as [UInt8]) else { return nil }
        return Array(body[(firstNewline + 1)...blank.lowerBound])
    }

    // MARK: - Tree heads

    /// The database's `/latest` signed tree head, verified and consistent with the past.
    public func latestAnswer() async throws(Failure) -> [UInt8] {
        if let known = brief.get("/latest") { return known }
        let body: [UInt8]
        do {
            body = try await upstream.get("/latest")
        } catch let failure where failure.kind == .unavailable {
            // Offline, the carried head is the latest this Warren can show proof for.
            guard let carried = await carriedHead() else { throw failure }
            // Kept briefly: an unreachable database is not asked again for every client.
            brief.put("/latest", carried.note)
            return carried.note
        }
        _ = try await verifiedHead(body)
        brief.put("/latest", body)
        return body
    }

    /// Opens a signed tree head and checks it against the latest one verified before.
    func verifiedHead(_ note: [UInt8]) async throws(Failure) -> TreeHead {
        let head: TreeHead
        do {
            head = try TreeHead(text: try SignedNote.open(note, keys: [key]).text)
        } catch {
            throw Failure(.tampering, "\(name): tree head: \(error)")
        }
        var known = latest
        if let shared = await sharedHead(), shared.size > (known?.size ?? -1) { known = shared }
        guard let old = known else {
            await remember(head, note: note)
            return head
        }
        let (small, large) = head.size <= old.size ? (head, old) : (old, head)
        if small.size == large.size {
            guard small.hash == large.hash else {
                throw Failure(.tampering, "\(name): two different trees of size \(head.size): the log has forked")
            }
            return head
        }
        try await proved(head: large) { read in
            try TransparencyLog.treeProof(oldSize: small.size, size: large.size, read: read)
        } check: { proof throws(TransparencyLog.ProofError) in
            try TransparencyLog.checkTree(proof: proof, size: large.size, treeHash: large.hash, oldSize: small.size, oldHash: small.hash)
        }
        if large == head { await remember(head, note: note) }
        return head
    }

    /// The largest head another replica (or an earlier run) verified and shared through
    /// storage; its signature is checked again, so a planted note is ignored.
    func sharedHead() async -> TreeHead? {
        guard let storage, let stored = try? await storage.readSmall(.sumdbHead(database: name), limit: 8192),
              let opened = try? SignedNote.open(stored.bytes, keys: [key]) else { return nil }
        return try? TreeHead(text: opened.text)
    }

    func remember(_ head: TreeHead, note: [UInt8]) async {
        if let storage, (await sharedHead()?.size ?? -1) < head.size {
            let metadata = ArtifactMetadata(size: Int64(note.count), hash: "size-\(head.size)", storedAt: Date().timeIntervalSince1970)
            try? await storage.writeSmall(.sumdbHead(database: name), bytes: note, metadata: metadata)
        }
        guard (latest?.size ?? -1) < head.size else { return }
        latest = head
        guard let stateFile else { return }
        let tmp = stateFile + ".tmp"
        if FileManager.default.createFile(atPath: tmp, contents: Data(head.text.utf8)) {
            _ = rename(tmp, stateFile)
        }
    }

    // MARK: - Tiles

    /// A tile of the log, and whether it can never change. A full hash tile is kept for
    /// ever once its hashes are proved to be a subtree of a verified tree; a partial one
    /// is kept briefly once it is proved to be the edge of a verified tree. Anything that
    /// cannot be proved (data tiles, tiles of other tree sizes) is relayed, not kept:
    /// clients verify it themselves.
    public func tile(_ tile: LogTile) async throws(Failure) -> (bytes: [UInt8], immutable: Bool) {
        if tile.level < 0 { return (try await fetchTile(tile), false) }
        if tile.isFull {
            if let stored = await storedTile(tile) { return (stored, true) }
            let data = try await fetchTile(tile, lookInStorage: false)
            try await checkFullTile(tile, data)
            await keep(tile, data)
            return (data, true)
        }
        if let known = brief.get("/" + tile.path) { return (known, false) }
        // Partial tiles a bundle carried are stored too; their bytes never change either.
        if let stored = await storedTile(tile) { return (stored, true) }
        let data = try await fetchTile(tile, lookInStorage: false)
        // The tree whose right edge this tile is: its band holds exactly these hashes.
        let bandSize = tile.index << tile.height + Int64(tile.width)
        let edge: (TreeHead) -> Bool = { head in head.size >> Int64(tile.level * tile.height) == bandSize }
        var head = latest
        if let h = head, !edge(h), h.size >> Int64(tile.level * tile.height) < bandSize {
            head = try await freshLatest()
        }
        guard let head, edge(head) else { return (data, false) }
        // `proved` keeps the tile (briefly) when the tree hash read all of it.
        try await proved(head: head, known: [tile: data]) { read in
            [try TransparencyLog.treeHash(size: head.size, read: read)]
        } check: { hashes throws(TransparencyLog.ProofError) in
            guard hashes == [head.hash] else {
                throw TransparencyLog.ProofError("\(tile.path) does not match the signed tree of size \(head.size)")
            }
        }
        return (data, false)
    }

    /// Checks that a full tile's hashes fold into a subtree of the latest verified tree.
    func checkFullTile(_ tile: LogTile, _ data: [UInt8]) async throws(Failure) {
        let level = (tile.level + 1) * tile.height
        let needed = (tile.index + 1) << level
        var head = latest
        if (head?.size ?? 0) < needed { head = try await freshLatest() }
        guard let head, head.size >= needed else {
            throw Failure(.notFound, "\(name): \(tile.path) is beyond the latest signed tree")
        }
        guard let root = TransparencyLog.tileRoot(data) else {
            throw Failure(.tampering, "\(name): \(tile.path) is not a full tile")
        }
        _ = try await proved(head: head) { read in
            try TransparencyLog.nodeProof(level: level, n: tile.index, size: head.size, read: read)
        } check: { proof throws(TransparencyLog.ProofError) in
            try TransparencyLog.checkNode(proof: proof, size: head.size, treeHash: head.hash, level: level, n: tile.index, subtreeHash: root)
        }
    }

    /// The database's current tree head, not the briefly cached one.
    func freshLatest() async throws(Failure) -> TreeHead? {
        brief.remove("/latest")
        _ = try await latestAnswer()
        return latest
    }

    /// A tile from the brief cache, storage (unless the caller has just looked there) or
    /// the database, size-checked. Nothing fetched here is kept: only `proved` and `tile`
    /// keep what they proved.
    func fetchTile(_ tile: LogTile, lookInStorage: Bool = true) async throws(Failure) -> [UInt8] {
        if let known = brief.get("/" + tile.path) { return known }
        if lookInStorage, let stored = await storedTile(tile) { return stored }
        let data = try await upstream.get("/" + tile.path)
        if tile.level >= 0 {
            guard data.count == tile.width * 32 else {
                throw Failure(.tampering, "\(name): \(tile.path) has \(data.count) bytes, want \(tile.width * 32)")
            }
        } else if data.isEmpty {
            throw Failure(.tampering, "\(name): \(tile.path) is empty")
        }
        return data
    }

    func storedTile(_ tile: LogTile) async -> [UInt8]? {
        guard tile.level >= 0, let storage,
              let stored = try? await storage.readSmall(.sumdbTile(database: name, tile: tile), limit: tile.width * 32),
              stored.bytes.count == tile.width * 32 else { return nil }
        return stored.bytes
    }

    /// Keeps a proved tile: full ones in storage for ever, partial ones briefly.
    func keep(_ tile: LogTile, _ data: [UInt8]) async {
        guard tile.level >= 0 else { return }
        guard tile.isFull else {
            brief.put("/" + tile.path, data)
            return
        }
        guard let storage else { return }
        let metadata = ArtifactMetadata(size: Int64(data.count), hash: ModuleProxy.contentTag(data), storedAt: Date().timeIntervalSince1970)
        try? await storage.writeSmall(.sumdbTile(database: name, tile: tile), bytes: data, metadata: metadata)
    }

    // MARK: - Proofs

    /// Builds a proof from tiles and checks it: `build` runs once to learn which hashes
    /// it reads, then, once their tiles are fetched, for real. A proof that checks proves
    /// every hash it read, so tiles it read whole are kept; the set of them is returned.
    @discardableResult
    func proved(head: TreeHead, known: [LogTile: [UInt8]] = [:],
                build: (([Int64]) throws -> [TransparencyLog.Hash]) throws -> [TransparencyLog.Hash],
                check: ([TransparencyLog.Hash]) throws(TransparencyLog.ProofError) -> Void) async throws(Failure) -> Set<LogTile> {
        var read: [LogTile: [Bool]] = [:]
        do {
            _ = try build { indexes in
                try indexes.map { index in
                    let (tile, offset, count) = try TransparencyLog.tileSpan(of: index, size: head.size, height: Self.tileHeight)
                    var seen = read[tile] ?? [Bool](repeating: false, count: tile.width)
                    for i in offset..<(offset + count) { seen[i] = true }
                    read[tile] = seen
                    return [UInt8](repeating: 0, count: 32)
                }
            }
        } catch {
            throw Failure(.tampering, "\(name): \(error)")
        }
        var tiles = known
        var fresh = Set<LogTile>(known.keys)
        for tile in read.keys where tiles[tile] == nil {
            // Full tiles are kept for ever; partial ones only when a bundle carried them,
            // and fetchTile looks there after the brief cache.
            if tile.isFull, let stored = await storedTile(tile) {
                tiles[tile] = stored
            } else {
                if brief.get("/" + tile.path) == nil { fresh.insert(tile) }
                tiles[tile] = try await fetchTile(tile)
            }
        }
        do {
            let proof = try build { indexes in
                try TransparencyLog.hashes(at: indexes, size: head.size, height: Self.tileHeight) { tile in
                    guard let data = tiles[tile] else { throw TransparencyLog.ProofError("tile \(tile.path) was not fetched") }
                    return data
                }
            }
            try check(proof)
        } catch {
            throw Failure(.tampering, "\(name): \(error)")
        }
        let whole = Set(read.filter { $0.value.allSatisfy { $0 } }.keys)
        for tile in whole.intersection(fresh) {
            if let data = tiles[tile] { await keep(tile, data) }
        }
        return whole
    }
}
