import Foundation
import GoModule
import Logging
import NIOCore

/// Warren's own checksum database: a transparency log in the go command's format
/// (signed tree heads, `/lookup`, `/latest`, `/tile/…`) of the module versions it
/// vouches for, so `GOSUMDB` can point at Warren and private modules get the tamper
/// evidence sum.golang.org gives public ones.
///
/// The log lives in the metadata index's database (`ChecksumLogStore`): appends are
/// serialized across replicas by the store's compare-and-set on the log size, the tree
/// head only moves forward, and every answer is derived from the stored records and
/// hashes. Only a replica with the signing key appends; any replica serves.
public final class ChecksumLog: Sendable {
    public let name: String
    public let verifierKey: String
    let store: any ChecksumLogStore
    let signer: NoteSigner?
    let logger: Logger
    /// Appends of this process, one at a time (replicas race through the store).
    let appends = KeyedLock<Int>()

    /// Records per tile: every Go checksum database uses tiles of height 8.
    static let tileHeight = 8

    public struct Mismatch: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    /// Opens the log the database holds; with `signer`, checks that it is this log's key.
    public init(store: any ChecksumLogStore, signer: NoteSigner?, logger: Logger) async throws {
        guard let state = try await store.checksumLog() else {
            throw Mismatch(description: "this database holds no checksum database yet: run warren sumdb init")
        }
        if let signer, signer.verifierKey != state.verifierKey {
            throw Mismatch(description: "the signing key is not the key of checksum database \(state.name) (\(state.verifierKey))")
        }
        self.name = state.name
        self.verifierKey = state.verifierKey
        self.store = store
        self.signer = signer
        self.logger = logger
    }

    /// Creates the log in `store`, empty, with a signed head of the empty tree.
    public static func create(in store: any ChecksumLogStore, signer: NoteSigner) async throws {
        let head = try signer.sign(TreeHead(size: 0, hash: try TransparencyLog.treeHash(size: 0) { _ in [] }).text)
        try await store.createChecksumLog(name: signer.name, verifierKey: signer.verifierKey, signedHead: head)
    }

    /// The record text of a module version: its two go.sum lines.
    static func recordText(module: String, version: String, zipHash: String, modHash: String) -> [UInt8] {
        Array("\(module) \(version) \(zipHash)\n\(module) \(version)/go.mod \(modHash)\n".utf8)
    }

    /// Adds a module version (nothing when it is there with the same hashes); returns
    /// its record ID. Other hashes for a version already logged are a conflict: the log
    /// never changes what it said.
    @discardableResult
    public func append(module: String, version: String, zipHash: String, modHash: String) async throws(ProxyError) -> Int64 {
        guard let signer else { throw .unavailable("this replica has no signing key for checksum database \(name)") }
        let text = Self.recordText(module: module, version: version, zipHash: zipHash, modHash: modHash)
        var attempt = 0
        while true {
            attempt += 1
            do {
                let outcome = try await appends.withLock(0) { () async throws -> Result<Int64, ProxyError> in
                    try await appendOnce(module: module, version: version, text: text, signer: signer)
                }
                return try outcome.get()
            } catch let error as ProxyError {
                throw error
            } catch where attempt < 5 && !Task.isCancelled {
                // A busy or slow database (another process appending, a failover): once
                // more, after a pause that grows, before the append fails.
                try? await Task.sleep(for: .milliseconds(100 * attempt))
            } catch {
                logger.error("the checksum database could not be appended to", metadata: [
                    "module": "\(module)", "version": "\(version)", "error": "\(error)"])
                throw .unavailable("checksum database \(name) is unavailable")
            }
        }
    }

    /// One append under the store's lock: the record's stored hashes, the new tree
    /// hash, and its signed head; nothing when the same record is there already. A
    /// conflict is returned, not thrown, so the store's transaction ends with a commit
    /// (a rollback on SQLite's shared connection would undo other writes made meanwhile).
    func appendOnce(module: String, version: String, text: [UInt8], signer: NoteSigner) async throws -> Result<Int64, ProxyError> {
        try await store.withLogLocked { [name] log -> (LogAppend?, Result<Int64, ProxyError>) in
            if let id = try await log.recordID(module: module, version: version) {
                guard let existing = try await log.records(from: id, count: 1).first, existing.text == text else {
                    return (nil, .failure(.conflict("checksum database \(name) already records other hashes for \(module)@\(version)")))
                }
                return (nil, .success(id))
            }
            let n = log.size
            let lefts = (0..<(n + 1).trailingZeroBitCount).map { TransparencyLog.storedHashIndex(level: $0, n: (n >> $0) - 1) }
            let leftHashes = try await log.hashes(lefts)
            let added = try TransparencyLog.storedHashes(forRecord: n, hash: TransparencyLog.recordHash(text)) { _ in leftHashes }
            let base = TransparencyLog.storedHashCount(n)
            let indexed = added.enumerated().map { (index: base + Int64($0.offset), hash: $0.element) }
            var known = Dictionary(uniqueKeysWithValues: indexed.map { ($0.index, $0.hash) })
            let missing = TransparencyLog.treeHashIndexes(size: n + 1).filter { known[$0] == nil }
            for (index, hash) in zip(missing, try await log.hashes(missing)) { known[index] = hash }
            let root = try TransparencyLog.treeHash(size: n + 1) { indexes in indexes.compactMap { known[$0] } }
            let head = try signer.sign(TreeHead(size: n + 1, hash: root).text)
            let record = LogRecord(id: n, module: module, version: version, text: text)
            MetricHandles.counter("warren_sumdb_log_appends_total", []).increment()
            return (LogAppend(records: [record], hashes: indexed, newSize: n + 1, signedHead: head), .success(n))
        }
    }

    /// The go.sum lines the log holds for a module version, or nil.
    public func lookup(module: String, version: String) async throws -> LogRecord? {
        guard let id = try await store.logRecordID(module: module, version: version) else { return nil }
        return try await store.logRecords(from: id, count: 1).first
    }

    /// Answers `/sumdb/<name>/…` from the log.
    public func serve(_ request: SumDBRequest) async throws(ProxyError) -> ServedArtifact {
        let brief = CachePolicy.fresh(seconds: 0)
        do {
            switch request {
            case .supported:
                return ChecksumDatabases.answer([], contentType: "text/plain; charset=utf-8", cachePolicy: .fresh(seconds: 3600))
            case .latest:
                return ChecksumDatabases.answer(try await state().signedHead, contentType: "text/plain; charset=utf-8", cachePolicy: brief)
            case .lookup(let module, let version):
                guard let record = try await lookup(module: module, version: version) else {
                    throw ProxyError.notFound("\(module)@\(version): not found in checksum database \(name)")
                }
                // Read after the record, so the head's tree includes it.
                let head = try await state().signedHead
                let body = Array("\(record.id)\n".utf8) + record.text + [0x0A] + head
                return ChecksumDatabases.answer(body, contentType: "text/plain; charset=utf-8", cachePolicy: brief)
            case .tile(let tile):
                return ChecksumDatabases.answer(try await tileData(tile), contentType: "application/octet-stream",
                                                cachePolicy: tile.isFull ? .immutable : brief)
            }
        } catch let error as ProxyError {
            throw error
        } catch {
            logger.error("the checksum database could not be read", metadata: ["request": "\(request)", "error": "\(error)"])
            throw .unavailable("checksum database \(name) is unavailable")
        }
    }

    /// How many records the log holds (the console's status page).
    public func size() async throws -> Int64 {
        try await state().size
    }

    func state() async throws -> ChecksumLogState {
        guard let state = try await store.checksumLog() else { throw Mismatch(description: "the checksum database is gone") }
        return state
    }

    /// A hash tile (the stored hashes of one tile of the tree) or a data tile (records,
    /// each as `ID\ntext\n`, as x/mod's server formats them); 404 beyond the tree.
    func tileData(_ tile: LogTile) async throws -> [UInt8] {
        let size = try await state().size
        let first = tile.index << Self.tileHeight
        let end = first + Int64(tile.width)
        if tile.level < 0 {
            guard end <= size else { throw ProxyError.notFound("tile \(tile.path) is beyond the log's \(size) records") }
            var out: [UInt8] = []
            for record in try await store.logRecords(from: first, count: tile.width) {
                out += Array("\(record.id)\n".utf8) + record.text + [0x0A]
            }
            return out
        }
        let level = tile.level * Self.tileHeight
        guard end << level <= size else { throw ProxyError.notFound("tile \(tile.path) is beyond the log's \(size) records") }
        let hashes = try await store.logHashes((first..<end).map { TransparencyLog.storedHashIndex(level: level, n: $0) })
        return hashes.flatMap { $0 }
    }
}
