import Foundation
import GoModule
import SQLiteNIO
import WarrenCore

/// Warren's checksum database in the same file: records as text, hashes as hex, and
/// one row for the log's size and signed head. `BEGIN IMMEDIATE` makes each append one
/// writer's, so the size check and the writes cannot interleave with another process's.
extension SQLiteMetadataIndex: ChecksumLogStore {
    public func checksumLog() async throws -> ChecksumLogState? {
        guard let row = try await connection.query("SELECT name, verifier_key, size, signed_head FROM sumdb_log WHERE id = 1", []).first else {
            return nil
        }
        return ChecksumLogState(name: row.column("name")?.string ?? "", verifierKey: row.column("verifier_key")?.string ?? "",
                                size: Int64(row.column("size")?.integer ?? 0), signedHead: Array((row.column("signed_head")?.string ?? "").utf8))
    }

    public func createChecksumLog(name: String, verifierKey: String, signedHead: [UInt8]) async throws {
        if let existing = try await checksumLog() { throw ChecksumLogExists(name: existing.name) }
        _ = try await connection.query("INSERT INTO sumdb_log (id, name, verifier_key, size, signed_head) VALUES (1, ?, ?, 0, ?)",
                                        [.text(name), .text(verifierKey), .text(String(decoding: signedHead, as: UTF8.self))])
    }

    public func logRecordID(module: String, version: String) async throws -> Int64? {
        let rows = try await connection.query("""
            SELECT r.id AS id FROM sumdb_records r, sumdb_log l WHERE r.module = ? AND r.version = ? AND r.id < l.size
            """, [.text(module), .text(version)])
        return rows.first?.column("id")?.integer.map(Int64.init)
    }

    public func logRecords(from: Int64, count: Int) async throws -> [LogRecord] {
        try await connection.query("""
            SELECT r.id AS id, r.module AS module, r.version AS version, r.record AS record FROM sumdb_records r, sumdb_log l
            WHERE r.id >= ? AND r.id < ? AND r.id < l.size ORDER BY r.id
            """, [.integer(Int(from)), .integer(Int(from) + count)]).map { row in
            LogRecord(id: Int64(row.column("id")?.integer ?? -1), module: row.column("module")?.string ?? "",
                      version: row.column("version")?.string ?? "", text: Array((row.column("record")?.string ?? "").utf8))
        }
    }

    public func logHashes(_ indexes: [Int64]) async throws -> [TransparencyLog.Hash] {
        guard !indexes.isEmpty else { return [] }
        var found: [Int64: TransparencyLog.Hash] = [:]
        var start = 0
        while start < indexes.count {
            let chunk = indexes[start..<min(start + 500, indexes.count)]
            let marks = Array(repeating: "?", count: chunk.count).joined(separator: ", ")
            for row in try await connection.query("SELECT id, hash FROM sumdb_hashes WHERE id IN (\(marks))", chunk.map { .integer(Int($0)) }) {
                if let id = row.column("id")?.integer, let hash = row.column("hash")?.string.flatMap(HexBytes.decode) {
                    found[Int64(id)] = hash
                }
            }
            start += chunk.count
        }
        return try indexes.map { index in
            guard let hash = found[index] else { throw ChecksumLog.Mismatch(description: "stored hash \(index) is missing") }
            return hash
        }
    }

    public func withLogLocked<T: Sendable>(_ body: @escaping @Sendable (any ChecksumLogTransaction) async throws -> (LogAppend?, T)) async throws -> T {
        var result: T?
        try await transaction {
            guard let size = try await connection.query("SELECT size FROM sumdb_log WHERE id = 1", []).first?.column("size")?.integer else {
                throw ChecksumLog.Mismatch(description: "this database holds no checksum database")
            }
            let (append, value) = try await body(SQLiteLogTransaction(index: self, size: Int64(size)))
            result = value
            guard let append else { return }
            let oldSize = Int64(size)
            // Leftovers of an append that died before its size was written.
            _ = try await connection.query("DELETE FROM sumdb_records WHERE id >= ?", [.integer(Int(oldSize))])
            _ = try await connection.query("DELETE FROM sumdb_hashes WHERE id >= ?", [.integer(Int(TransparencyLog.storedHashCount(oldSize)))])
            for r in append.records {
                _ = try await connection.query("INSERT INTO sumdb_records (id, module, version, record) VALUES (?, ?, ?, ?)",
                                                [.integer(Int(r.id)), .text(r.module), .text(r.version), .text(String(decoding: r.text, as: UTF8.self))])
            }
            for h in append.hashes {
                _ = try await connection.query("INSERT INTO sumdb_hashes (id, hash) VALUES (?, ?)", [.integer(Int(h.index)), .text(HexBytes.encode(h.hash))])
            }
            _ = try await connection.query("UPDATE sumdb_log SET size = ?, signed_head = ? WHERE id = 1",
                                            [.integer(Int(append.newSize)), .text(String(decoding: append.signedHead, as: UTF8.self))])
        }
        guard let result else { throw ChecksumLog.Mismatch(description: "the append did not run") }
        return result
    }
}

/// Reads inside the append's transaction, on the same connection.
struct SQLiteLogTransaction: ChecksumLogTransaction {
    let index: SQLiteMetadataIndex
    let size: Int64

    func recordID(module: String, version: String) async throws -> Int64? {
        try await index.logRecordID(module: module, version: version)
    }

    func records(from: Int64, count: Int) async throws -> [LogRecord] {
        try await index.logRecords(from: from, count: count)
    }

    func hashes(_ indexes: [Int64]) async throws -> [TransparencyLog.Hash] {
        try await index.logHashes(indexes)
    }
}
