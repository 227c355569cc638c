import Foundation
import GoModule
import Logging
import NIOCore
import NIOPosix
import SQLiteNIO
import WarrenCore

/// The metadata index in an SQLite file (the embedded default: `index.sqlite` in the data
/// directory, no server). One connection, on a thread of its own, so statements run one
/// at a time; WAL mode, so a reader (`warren index …`) never blocks the server.
public final class SQLiteMetadataIndex: MetadataIndex {
    public let path: String
    let connection: SQLiteConnection
    let thread: NIOThreadPool

    /// Opens (creating) the database file; call `migrate()` before use.
    public static func open(path: String, logger: Logger) async throws -> SQLiteMetadataIndex {
        let thread = NIOThreadPool(numberOfThreads: 1)
        thread.start()
        do {
            let connection = try await SQLiteConnection.open(storage: .file(path: path), threadPool: thread, logger: logger,
                                                             on: MultiThreadedEventLoopGroup.singleton.any())
            let index = SQLiteMetadataIndex(path: path, connection: connection, thread: thread)
            _ = try await connection.query("PRAGMA journal_mode=WAL", [])
            _ = try await connection.query("PRAGMA busy_timeout=5000", [])
            return index
        } catch {
            try? await thread.shutdownGracefully()
            throw error
        }
    }

    private init(path: String, connection: SQLiteConnection, thread: NIOThreadPool) {
        self.path = path
        self.connection = connection
        self.thread = thread
    }

    /// The schema, one step per version; a step never changes once released.
    static let migrations: [(version: Int, statements: [String])] = [
        (1, [
            """
            CREATE TABLE module_versions (
                module TEXT NOT NULL,
                version TEXT NOT NULL,
                origin TEXT,
                zip_hash TEXT,
                mod_hash TEXT,
                zip_size INTEGER,
                stored_at REAL NOT NULL,
                PRIMARY KEY (module, version)
            )
            """,
            "CREATE INDEX module_versions_by_time ON module_versions (stored_at)",
        ]),
        (2, [
            "ALTER TABLE module_versions ADD COLUMN downloads INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE module_versions ADD COLUMN last_access REAL",
            "CREATE INDEX module_versions_by_downloads ON module_versions (downloads)",
        ]),
        (3, [
            """
            CREATE TABLE access_tokens (
                id TEXT PRIMARY KEY,
                user_name TEXT NOT NULL,
                groups TEXT NOT NULL,
                scopes TEXT NOT NULL,
                secret_hash TEXT NOT NULL,
                created_at REAL NOT NULL,
                expires_at REAL,
                last_used REAL,
                revoked_at REAL
            )
            """,
            "CREATE TABLE access_generation (id INTEGER PRIMARY KEY CHECK (id = 1), generation INTEGER NOT NULL)",
            "INSERT INTO access_generation (id, generation) VALUES (1, 0)",
        ]),
        (4, [
            """
            CREATE TABLE audit_events (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                time REAL NOT NULL,
                action TEXT NOT NULL,
                user_name TEXT NOT NULL,
                token_id TEXT,
                address TEXT,
                target TEXT,
                result TEXT NOT NULL,
                detail TEXT
            )
            """,
            "CREATE INDEX audit_events_by_time ON audit_events (time)",
        ]),
        (5, [
            """
            CREATE TABLE sumdb_log (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                name TEXT NOT NULL,
                verifier_key TEXT NOT NULL,
                size INTEGER NOT NULL,
                signed_head TEXT NOT NULL
            )
            """,
            "CREATE TABLE sumdb_records (id INTEGER PRIMARY KEY, module TEXT NOT NULL, version TEXT NOT NULL, record TEXT NOT NULL)",
            "CREATE UNIQUE INDEX sumdb_records_by_version ON sumdb_records (module, version)",
            "CREATE TABLE sumdb_hashes (id INTEGER PRIMARY KEY, hash TEXT NOT NULL)",
        ]),
        (6, [
            "CREATE TABLE vulnerabilities (id TEXT PRIMARY KEY, record TEXT NOT NULL)",
            "CREATE TABLE vulnerability_generation (id INTEGER PRIMARY KEY CHECK (id = 1), generation INTEGER NOT NULL)",
            "INSERT INTO vulnerability_generation (id, generation) VALUES (1, 0)",
        ]),
        (7, [
            "CREATE TABLE pinned_modules (pattern TEXT PRIMARY KEY)",
        ]),
    ]

    /// Applies the steps not yet applied, in one write transaction (`BEGIN IMMEDIATE`
    /// takes the write lock first, so two processes cannot both apply a step).
    public func migrate() async throws {
        // Several processes starting at once on a loaded machine can wait out the busy
        // timeout behind each other: try a few times before giving up.
        var attempt = 0
        while true {
            do {
                return try await migrateOnce()
            } catch let error as SQLiteError where error.reason == .busy && attempt < 4 {
                attempt += 1
            }
        }
    }

    func migrateOnce() async throws {
        _ = try await connection.query("CREATE TABLE IF NOT EXISTS warren_schema (version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)", [])
        _ = try await connection.query("BEGIN IMMEDIATE", [])
        do {
            let rows = try await connection.query("SELECT COALESCE(MAX(version), 0) AS v FROM warren_schema", [])
            let current = rows.first?.column("v")?.integer ?? 0
            for step in Self.migrations where step.version > current {
                for statement in step.statements { _ = try await connection.query(statement, []) }
                _ = try await connection.query("INSERT INTO warren_schema (version, applied_at) VALUES (?, ?)",
                                                [.integer(step.version), .float(Date().timeIntervalSince1970)])
            }
            _ = try await connection.query("COMMIT", [])
        } catch {
            _ = try? await connection.query("ROLLBACK", [])
            throw error
        }
    }

    public func recordStored(module: String, version: String, kind: ArtifactKind, metadata: ArtifactMetadata) async throws {
        let zipHash: SQLiteData = kind == .zip ? .text(metadata.hash) : .null
        let zipSize: SQLiteData = kind == .zip ? .integer(Int(metadata.size)) : .null
        let modHash: SQLiteData = kind == .mod ? .text(metadata.hash) : .null
        _ = try await connection.query("""
            INSERT INTO module_versions (module, version, origin, zip_hash, mod_hash, zip_size, stored_at)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (module, version) DO UPDATE SET
                origin = COALESCE(module_versions.origin, excluded.origin),
                zip_hash = COALESCE(excluded.zip_hash, module_versions.zip_hash),
                mod_hash = COALESCE(excluded.mod_hash, module_versions.mod_hash),
                zip_size = COALESCE(excluded.zip_size, module_versions.zip_size),
                stored_at = MIN(module_versions.stored_at, excluded.stored_at)
            """, [.text(module), .text(version), metadata.origin.map { .text($0) } ?? .null, zipHash, modHash, zipSize,
                  .float(metadata.storedAt)])
    }

    static let columns = "module, version, origin, zip_hash, mod_hash, zip_size, stored_at, downloads, last_access"

    /// One transaction for the whole batch (one fsync, not one per version).
    public func recordDownloads(_ counts: [DownloadCount]) async throws {
        guard !counts.isEmpty else { return }
        _ = try await connection.query("BEGIN IMMEDIATE", [])
        do {
            for c in counts {
                _ = try await connection.query("""
                    UPDATE module_versions SET downloads = downloads + ?, last_access = MAX(COALESCE(last_access, 0), ?)
                    WHERE module = ? AND version = ?
                    """, [.integer(Int(c.count)), .float(c.lastAccess), .text(c.module), .text(c.version)])
            }
            _ = try await connection.query("COMMIT", [])
        } catch {
            _ = try? await connection.query("ROLLBACK", [])
            throw error
        }
    }

    public func mostDownloaded(limit: Int) async throws -> [IndexedVersion] {
        try await select("""
            SELECT \(Self.columns) FROM module_versions WHERE downloads > 0 ORDER BY downloads DESC, module, version LIMIT ?
            """, [.integer(limit)])
    }

    public func recordRemoved(module: String, version: String, kind: ArtifactKind) async throws {
        let binds: [SQLiteData] = [.text(module), .text(version)]
        switch kind {
        case .zip: _ = try await connection.query("UPDATE module_versions SET zip_hash = NULL, zip_size = NULL WHERE module = ? AND version = ?", binds)
        case .mod: _ = try await connection.query("UPDATE module_versions SET mod_hash = NULL WHERE module = ? AND version = ?", binds)
        case .info: return
        }
        _ = try await connection.query("DELETE FROM module_versions WHERE module = ? AND version = ? AND zip_hash IS NULL AND mod_hash IS NULL", binds)
    }

    public func cachedZips() async throws -> [IndexedVersion] {
        try await select("""
            SELECT \(Self.columns) FROM module_versions WHERE zip_hash IS NOT NULL ORDER BY COALESCE(last_access, stored_at), module, version
            """, [])
    }

    public func versions(of module: String) async throws -> [IndexedVersion] {
        try await select("SELECT \(Self.columns) FROM module_versions WHERE module = ?", [.text(module)]).sortedBySemVer()
    }

    public func feed(since: Double, limit: Int) async throws -> [IndexedVersion] {
        try await select("SELECT \(Self.columns) FROM module_versions WHERE stored_at >= ? ORDER BY stored_at, module, version LIMIT ?",
                         [.float(since), .integer(limit)])
    }

    public func catalog(after: (module: String, version: String)?, limit: Int) async throws -> [IndexedVersion] {
        guard let after else {
            return try await select("SELECT \(Self.columns) FROM module_versions ORDER BY module, version LIMIT ?", [.integer(limit)])
        }
        return try await select("""
            SELECT \(Self.columns) FROM module_versions WHERE module > ? OR (module = ? AND version > ?)
            ORDER BY module, version LIMIT ?
            """, [.text(after.module), .text(after.module), .text(after.version), .integer(limit)])
    }

    public func readinessProblem() async -> String? {
        do {
            _ = try await connection.query("SELECT 1", [])
            return nil
        } catch {
            return "the metadata index \(path) does not answer: \(error)"
        }
    }

    public func close() async {
        try? await connection.close()
        try? await thread.shutdownGracefully()
    }

    func select(_ sql: String, _ binds: [SQLiteData]) async throws -> [IndexedVersion] {
        try await connection.query(sql, binds).map { row in
            IndexedVersion(module: row.column("module")?.string ?? "", version: row.column("version")?.string ?? "",
                           origin: row.column("origin")?.string, zipHash: row.column("zip_hash")?.string,
                           modHash: row.column("mod_hash")?.string, zipSize: row.column("zip_size")?.integer.map(Int64.init),
                           storedAt: row.column("stored_at")?.double ?? 0, downloads: Int64(row.column("downloads")?.integer ?? 0),
                           lastAccess: row.column("last_access")?.double)
        }
    }
}

/// Tokens in the same file: created and revoked in one transaction with the generation
/// that tells the server to reload them.
extension SQLiteMetadataIndex: TokenStore {
    public func insertToken(_ r: TokenRecord) async throws {
        try await transaction {
            _ = try await connection.query("""
                INSERT INTO access_tokens (id, user_name, groups, scopes, secret_hash, created_at, expires_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, [.text(r.id), .text(r.user), .text(r.groups.joined(separator: "\n")), .text(r.scopes.joined(separator: "\n")),
                      .text(r.secretHash), .float(r.createdAt), r.expiresAt.map { .float($0) } ?? .null])
            _ = try await connection.query("UPDATE access_generation SET generation = generation + 1 WHERE id = 1", [])
        }
    }

    public func tokens() async throws -> [TokenRecord] {
        try await connection.query("""
            SELECT id, user_name, groups, scopes, secret_hash, created_at, expires_at, last_used, revoked_at
            FROM access_tokens ORDER BY created_at, id
            """, []).map { row in
            TokenRecord(id: row.column("id")?.string ?? "", user: row.column("user_name")?.string ?? "",
                        groups: Self.lines(row.column("groups")?.string), scopes: Self.lines(row.column("scopes")?.string),
                        secretHash: row.column("secret_hash")?.string ?? "", createdAt: row.column("created_at")?.double ?? 0,
                        expiresAt: row.column("expires_at")?.double, lastUsed: row.column("last_used")?.double,
                        revokedAt: row.column("revoked_at")?.double)
        }
    }

    public func revokeToken(id: String, at time: Double) async throws -> Bool {
        var revoked = false
        try await transaction {
            let rows = try await connection.query(
                "UPDATE access_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL RETURNING id", [.float(time), .text(id)])
            revoked = !rows.isEmpty
            if revoked { _ = try await connection.query("UPDATE access_generation SET generation = generation + 1 WHERE id = 1", []) }
        }
        return revoked
    }

    public func tokenGeneration() async throws -> Int64 {
        let rows = try await connection.query("SELECT generation FROM access_generation WHERE id = 1", [])
        return Int64(rows.first?.column("generation")?.integer ?? 0)
    }

    public func recordTokenUse(_ uses: [String: Double]) async throws {
        guard !uses.isEmpty else { return }
        try await transaction {
            for (id, time) in uses {
                _ = try await connection.query("UPDATE access_tokens SET last_used = MAX(COALESCE(last_used, 0), ?) WHERE id = ?",
                                                [.float(time), .text(id)])
            }
        }
    }

    static func lines(_ text: String?) -> [String] {
        (text ?? "").split(separator: "\n").map(String.init)
    }

    /// `body` in one write transaction.
    func transaction(_ body: () async throws -> Void) async throws {
        _ = try await connection.query("BEGIN IMMEDIATE", [])
        do {
            try await body()
            _ = try await connection.query("COMMIT", [])
        } catch {
            _ = try? await connection.query("ROLLBACK", [])
            throw error
        }
    }
}

/// Audit events in the same file, one transaction per batch.
extension SQLiteMetadataIndex: AuditStore {
    public func recordAudit(_ records: [AuditRecord]) async throws {
        guard !records.isEmpty else { return }
        let text = { (s: String?) -> SQLiteData in s.map { .text($0) } ?? .null }
        // A hundred rows a statement: a busy server audits thousands of downloads a second.
        try await transaction {
            var start = 0
            while start < records.count {
                let chunk = records[start..<min(start + 100, records.count)]
                let values = Array(repeating: "(?, ?, ?, ?, ?, ?, ?, ?)", count: chunk.count).joined(separator: ", ")
                let binds = chunk.flatMap { r -> [SQLiteData] in
                    [.float(r.time), .text(r.action), .text(r.user), text(r.token), text(r.address), text(r.target), .text(r.result),
                     text(r.detail)]
                }
                _ = try await connection.query(
                    "INSERT INTO audit_events (time, action, user_name, token_id, address, target, result, detail) VALUES " + values, binds)
                start += chunk.count
            }
        }
    }

    public func auditEvents(since: Double, limit: Int) async throws -> [AuditRecord] {
        try await connection.query("""
            SELECT time, action, user_name, token_id, address, target, result, detail FROM audit_events
            WHERE time >= ? ORDER BY time, id LIMIT ?
            """, [.float(since), .integer(limit)]).map { row in
            AuditRecord(time: row.column("time")?.double ?? 0, action: row.column("action")?.string ?? "",
                        user: row.column("user_name")?.string ?? "", token: row.column("token_id")?.string,
                        address: row.column("address")?.string, target: row.column("target")?.string,
                        result: row.column("result")?.string ?? "", detail: row.column("detail")?.string)
        }
    }

    public func latestAuditEvents(targetPrefix: String?, limit: Int) async throws -> [AuditRecord] {
        let prefix = targetPrefix ?? ""
        return try await connection.query("""
            SELECT time, action, user_name, token_id, address, target, result, detail FROM audit_events
            WHERE ? = '' OR substr(target, 1, length(?)) = ? ORDER BY time DESC, id DESC LIMIT ?
            """, [.text(prefix), .text(prefix), .text(prefix), .integer(limit)]).map { row in
            AuditRecord(time: row.column("time")?.double ?? 0, action: row.column("action")?.string ?? "",
                        user: row.column("user_name")?.string ?? "", token: row.column("token_id")?.string,
                        address: row.column("address")?.string, target: row.column("target")?.string,
                        result: row.column("result")?.string ?? "", detail: row.column("detail")?.string)
        }
    }
}
