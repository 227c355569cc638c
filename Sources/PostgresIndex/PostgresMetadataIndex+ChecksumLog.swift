import Foundation
import GoModule
import PostgresNIO
import WarrenCore

/// Warren's checksum database shared by replicas: each append is one transaction that
/// locks the log's row first (`SELECT … FOR UPDATE`), so appends from several replicas
/// take turns and the size only moves forward.
extension PostgresMetadataIndex: ChecksumLogStore {
    public func checksumLog() async throws -> ChecksumLogState? {
        try await bounded(deadline) { [self] in
            var state: ChecksumLogState?
            let rows = try await client.query("SELECT name, verifier_key, size, signed_head FROM sumdb_log WHERE id = 1", logger: logger)
            for try await (name, key, size, head) in rows.decode((String, String, Int64, String).self) {
                state = ChecksumLogState(name: name, verifierKey: key, size: size, signedHead: Array(head.utf8))
            }
            return state
        }
    }

    public func createChecksumLog(name: String, verifierKey: String, signedHead: [UInt8]) async throws {
        if let existing = try await checksumLog() { throw ChecksumLogExists(name: existing.name) }
        let head = String(decoding: signedHead, as: UTF8.self)
        try await bounded(deadline) { [self] in
            try await client.query("""
                INSERT INTO sumdb_log (id, name, verifier_key, size, signed_head) VALUES (1, \(name), \(verifierKey), 0, \(head))
                """, logger: logger)
        }
    }

    public func logRecordID(module: String, version: String) async throws -> Int64? {
        try await reading { try await $0.recordID(module: module, version: version) }
    }

    public func logRecords(from: Int64, count: Int) async throws -> [LogRecord] {
        try await reading { try await $0.records(from: from, count: count) }
    }

    public func logHashes(_ indexes: [Int64]) async throws -> [TransparencyLog.Hash] {
        try await reading { try await $0.hashes(indexes) }
    }

    /// A read on a pooled connection, under the usual deadline.
    func reading<T: Sendable>(_ read: @escaping @Sendable (PostgresLogReads) async throws -> T) async throws -> T {
        try await bounded(deadline) { [self] in
            try await client.withConnection { connection in
                try await read(PostgresLogReads(connection: connection, logger: self.logger, size: nil))
            }
        }
    }

    public func withLogLocked<T: Sendable>(_ body: @escaping @Sendable (any ChecksumLogTransaction) async throws -> (LogAppend?, T)) async throws -> T {
        // Appends queue on the row lock by design: a longer deadline than a lone query's.
        try await bounded(deadline * 4) { [self] in
            try await client.withTransaction(logger: logger) { connection in
                // The row lock makes appends from every replica take turns.
                var locked: Int64?
                for try await s in try await connection.query("SELECT size FROM sumdb_log WHERE id = 1 FOR UPDATE", logger: self.logger)
                    .decode(Int64.self) { locked = s }
                guard let oldSize = locked else { throw ChecksumLog.Mismatch(description: "this database holds no checksum database") }
                let (append, value) = try await body(PostgresLogReads(connection: connection, logger: self.logger, size: oldSize))
                guard let append else { return value }
                let hashStart = TransparencyLog.storedHashCount(oldSize)
                // Leftovers of an append that died before its size was written.
                try await connection.query("DELETE FROM sumdb_records WHERE id >= \(oldSize)", logger: self.logger)
                try await connection.query("DELETE FROM sumdb_hashes WHERE id >= \(hashStart)", logger: self.logger)
                for r in append.records {
                    let text = String(decoding: r.text, as: UTF8.self)
                    try await connection.query("""
                        INSERT INTO sumdb_records (id, module, version, record) VALUES (\(r.id), \(r.module), \(r.version), \(text))
                        """, logger: self.logger)
                }
                let ids = append.hashes.map(\.index), texts = append.hashes.map { HexBytes.encode($0.hash) }
                try await connection.query("""
                    INSERT INTO sumdb_hashes (id, hash) SELECT * FROM UNNEST(\(ids)::BIGINT[], \(texts)::TEXT[])
                    """, logger: self.logger)
                let head = String(decoding: append.signedHead, as: UTF8.self)
                try await connection.query("UPDATE sumdb_log SET size = \(append.newSize), signed_head = \(head) WHERE id = 1",
                                           logger: self.logger)
                return value
            }
        }
    }
}

/// The log's reads on one connection: a pooled one, or the append's transaction.
struct PostgresLogReads: ChecksumLogTransaction {
    let connection: PostgresConnection
    let logger: Logger
    /// The size the append locked (reads outside an append do not use it).
    let lockedSize: Int64?

    init(connection: PostgresConnection, logger: Logger, size: Int64?) {
        self.connection = connection
        self.logger = logger
        self.lockedSize = size
    }

    var size: Int64 { lockedSize ?? 0 }

    func recordID(module: String, version: String) async throws -> Int64? {
        var id: Int64?
        let rows = try await connection.query("""
            SELECT r.id FROM sumdb_records r, sumdb_log l WHERE r.module = \(module) AND r.version = \(version) AND r.id < l.size
            """, logger: logger)
        for try await found in rows.decode(Int64.self) { id = found }
        return id
    }

    func records(from: Int64, count: Int) async throws -> [LogRecord] {
        let end = from + Int64(count)
        var out: [LogRecord] = []
        let rows = try await connection.query("""
            SELECT r.id, r.module, r.version, r.record FROM sumdb_records r, sumdb_log l
            WHERE r.id >= \(from) AND r.id < \(end) AND r.id < l.size ORDER BY r.id
            """, logger: logger)
        for try await (id, module, version, record) in rows.decode((Int64, String, String, String).self) {
            out.append(LogRecord(id: id, module: module, version: version, text: Array(record.utf8)))
        }
        return out
    }

    func hashes(_ indexes: [Int64]) async throws -> [TransparencyLog.Hash] {
        guard !indexes.isEmpty else { return [] }
        var found: [Int64: TransparencyLog.Hash] = [:]
        let rows = try await connection.query("SELECT id, hash FROM sumdb_hashes WHERE id = ANY(\(indexes))", logger: logger)
        for try await (id, hash) in rows.decode((Int64, String).self) {
            if let bytes = HexBytes.decode(hash) { found[id] = bytes }
        }
        return try indexes.map { index in
            guard let hash = found[index] else { throw ChecksumLog.Mismatch(description: "stored hash \(index) is missing") }
            return hash
        }
    }
}
