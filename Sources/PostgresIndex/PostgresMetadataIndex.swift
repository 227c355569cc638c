import Foundation
import GoModule
import Logging
import NIOCore
import PostgresNIO
import WarrenCore

/// The metadata index in PostgreSQL, shared by every replica. Migrations take an advisory
/// lock inside their transaction, so replicas starting together apply each step once.
/// Every operation has a deadline: a database that does not answer is an error within
/// seconds (the engine's 503), never a hang.
public final class PostgresMetadataIndex: MetadataIndex {
    let client: PostgresClient
    let runner: Task<Void, Never>
    let logger: Logger
    /// Where it is, without the password (for readiness and logs).
    public let displayName: String
    let deadline: Duration

    public init(url: String, logger: Logger, deadline: Duration = .seconds(5)) throws {
        let settings = try PostgresURL(url)
        var configuration = PostgresClient.Configuration(host: settings.host, port: settings.port, username: settings.user,
                                                         password: settings.password, database: settings.database,
                                                         tls: settings.requireTLS ? .require(.makeClientConfiguration())
                                                            : settings.disableTLS ? .disable : .prefer(.makeClientConfiguration()))
        configuration.options.connectTimeout = .seconds(3)
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        self.runner = Task { await client.run() }
        self.logger = logger
        self.displayName = settings.displayName
        self.deadline = deadline
    }

    /// Advisory lock key for migrations ("warren" in ASCII, as a number).
    static let migrationLock: Int64 = 0x77_61_72_72_65_6E

    static let migrations: [(version: Int, statements: [PostgresQuery])] = [
        (1, [
            """
            CREATE TABLE module_versions (
                module TEXT NOT NULL,
                version TEXT NOT NULL,
                origin TEXT,
                zip_hash TEXT,
                mod_hash TEXT,
                zip_size BIGINT,
                stored_at DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (module, version)
            )
            """,
            "CREATE INDEX module_versions_by_time ON module_versions (stored_at)",
        ]),
        (2, [
            "ALTER TABLE module_versions ADD COLUMN downloads BIGINT NOT NULL DEFAULT 0",
            "ALTER TABLE module_versions ADD COLUMN last_access DOUBLE PRECISION",
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
                created_at DOUBLE PRECISION NOT NULL,
                expires_at DOUBLE PRECISION,
                last_used DOUBLE PRECISION,
                revoked_at DOUBLE PRECISION
            )
            """,
            "CREATE TABLE access_generation (id INTEGER PRIMARY KEY CHECK (id = 1), generation BIGINT NOT NULL)",
            "INSERT INTO access_generation (id, generation) VALUES (1, 0)",
        ]),
        (4, [
            """
            CREATE TABLE audit_events (
                id BIGSERIAL PRIMARY KEY,
                time DOUBLE PRECISION NOT NULL,
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
                size BIGINT NOT NULL,
                signed_head TEXT NOT NULL
            )
            """,
            "CREATE TABLE sumdb_records (id BIGINT PRIMARY KEY, module TEXT NOT NULL, version TEXT NOT NULL, record TEXT NOT NULL)",
            "CREATE UNIQUE INDEX sumdb_records_by_version ON sumdb_records (module, version)",
            "CREATE TABLE sumdb_hashes (id BIGINT PRIMARY KEY, hash TEXT NOT NULL)",
        ]),
        (6, [
            "CREATE TABLE vulnerabilities (id TEXT PRIMARY KEY, record TEXT NOT NULL)",
            "CREATE TABLE vulnerability_generation (id INTEGER PRIMARY KEY CHECK (id = 1), generation BIGINT NOT NULL)",
            "INSERT INTO vulnerability_generation (id, generation) VALUES (1, 0)",
        ]),
        (7, [
            "CREATE TABLE pinned_modules (pattern TEXT PRIMARY KEY)",
        ]),
    ]

    public func migrate() async throws {
        try await bounded(.seconds(30)) { [self] in
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", logger: self.logger)
                try await connection.query("""
                    CREATE TABLE IF NOT EXISTS warren_schema (version INTEGER PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)
                    """, logger: self.logger)
                var current = 0
                for try await v in try await connection.query("SELECT COALESCE(MAX(version), 0) FROM warren_schema", logger: self.logger)
                    .decode(Int.self) { current = v }
                for step in Self.migrations where step.version > current {
                    for statement in step.statements { try await connection.query(statement, logger: self.logger) }
                    let now = Date().timeIntervalSince1970
                    try await connection.query("INSERT INTO warren_schema (version, applied_at) VALUES (\(step.version), \(now))",
                                               logger: self.logger)
                }
            }
        }
    }

    public func recordStored(module: String, version: String, kind: ArtifactKind, metadata: ArtifactMetadata) async throws {
        let zipHash: String? = kind == .zip ? metadata.hash : nil
        let zipSize: Int64? = kind == .zip ? metadata.size : nil
        let modHash: String? = kind == .mod ? metadata.hash : nil
        let origin = metadata.origin, storedAt = metadata.storedAt
        try await bounded(deadline) { [self] in
            try await client.query("""
                INSERT INTO module_versions (module, version, origin, zip_hash, mod_hash, zip_size, stored_at)
                VALUES (\(module), \(version), \(origin), \(zipHash), \(modHash), \(zipSize), \(storedAt))
                ON CONFLICT (module, version) DO UPDATE SET
                    origin = COALESCE(module_versions.origin, excluded.origin),
                    zip_hash = COALESCE(excluded.zip_hash, module_versions.zip_hash),
                    mod_hash = COALESCE(excluded.mod_hash, module_versions.mod_hash),
                    zip_size = COALESCE(excluded.zip_size, module_versions.zip_size),
                    stored_at = LEAST(module_versions.stored_at, excluded.stored_at)
                """, logger: logger)
        }
    }

    public func recordRemoved(module: String, version: String, kind: ArtifactKind) async throws {
        guard kind != .info else { return }
        try await bounded(deadline) { [self] in
            if kind == .zip {
                try await client.query("UPDATE module_versions SET zip_hash = NULL, zip_size = NULL WHERE module = \(module) AND version = \(version)",
                                       logger: logger)
            } else {
                try await client.query("UPDATE module_versions SET mod_hash = NULL WHERE module = \(module) AND version = \(version)", logger: logger)
            }
            try await client.query("""
                DELETE FROM module_versions WHERE module = \(module) AND version = \(version) AND zip_hash IS NULL AND mod_hash IS NULL
                """, logger: logger)
        }
    }

    public func cachedZips() async throws -> [IndexedVersion] {
        try await select("""
            SELECT \(unescaped: Self.columns) FROM module_versions WHERE zip_hash IS NOT NULL
            ORDER BY COALESCE(last_access, stored_at), module COLLATE "C", version COLLATE "C"
            """)
    }

    public func versions(of module: String) async throws -> [IndexedVersion] {
        try await select("SELECT \(unescaped: Self.columns) FROM module_versions WHERE module = \(module)").sortedBySemVer()
    }

    public func feed(since: Double, limit: Int) async throws -> [IndexedVersion] {
        try await select("""
            SELECT \(unescaped: Self.columns) FROM module_versions WHERE stored_at >= \(since)
            ORDER BY stored_at, module COLLATE "C", version COLLATE "C" LIMIT \(limit)
            """)
    }

    public func catalog(after: (module: String, version: String)?, limit: Int) async throws -> [IndexedVersion] {
        guard let after else {
            return try await select("""
                SELECT \(unescaped: Self.columns) FROM module_versions ORDER BY module COLLATE "C", version COLLATE "C" LIMIT \(limit)
                """)
        }
        return try await select("""
            SELECT \(unescaped: Self.columns) FROM module_versions
            WHERE module COLLATE "C" > \(after.module) OR (module = \(after.module) AND version COLLATE "C" > \(after.version))
            ORDER BY module COLLATE "C", version COLLATE "C" LIMIT \(limit)
            """)
    }

    public func readinessProblem() async -> String? {
        do {
            try await bounded(.seconds(2)) { [self] in try await client.query("SELECT 1", logger: logger) }
            return nil
        } catch {
            return "the metadata index \(displayName) does not answer: \(Self.oneLine(error))"
        }
    }

    public func close() async {
        runner.cancel()
        await runner.value
    }

    static let columns = "module, version, origin, zip_hash, mod_hash, zip_size, stored_at, downloads, last_access"

    /// One statement for the whole batch (the counts as arrays, joined by unnest), so a
    /// replica's flush is one round trip and concurrent flushes of other replicas add up.
    public func recordDownloads(_ counts: [DownloadCount]) async throws {
        guard !counts.isEmpty else { return }
        let modules = counts.map(\.module), versions = counts.map(\.version)
        let numbers = counts.map(\.count), times = counts.map(\.lastAccess)
        try await bounded(deadline) { [self] in
            try await client.query("""
                UPDATE module_versions AS m
                SET downloads = m.downloads + d.n, last_access = GREATEST(COALESCE(m.last_access, 0), d.t)
                FROM unnest(\(modules)::text[], \(versions)::text[], \(numbers)::bigint[], \(times)::float8[]) AS d(module, version, n, t)
                WHERE m.module = d.module AND m.version = d.version
                """, logger: logger)
        }
    }

    public func mostDownloaded(limit: Int) async throws -> [IndexedVersion] {
        try await select("""
            SELECT \(unescaped: Self.columns) FROM module_versions WHERE downloads > 0
            ORDER BY downloads DESC, module COLLATE "C", version COLLATE "C" LIMIT \(limit)
            """)
    }

    func select(_ query: PostgresQuery) async throws -> [IndexedVersion] {
        try await bounded(deadline) { [self] in
            var out: [IndexedVersion] = []
            let rows = try await client.query(query, logger: logger)
            for try await (module, version, origin, zipHash, modHash, zipSize, storedAt, downloads, lastAccess) in
                rows.decode((String, String, String?, String?, String?, Int64?, Double, Int64, Double?).self) {
                out.append(IndexedVersion(module: module, version: version, origin: origin, zipHash: zipHash, modHash: modHash,
                                          zipSize: zipSize, storedAt: storedAt, downloads: downloads, lastAccess: lastAccess))
            }
            return out
        }
    }

    /// The first line of a database error, without the query text.
    static func oneLine(_ error: any Error) -> String {
        if let psql = error as? PSQLError {
            return psql.serverInfo?[.message] ?? "\(psql.code)"
        }
        return String(String(describing: error).split(separator: "\n").first ?? "")
    }

    struct TimedOut: Error, CustomStringConvertible {
        let description = "the database did not answer in time"
    }

    /// Runs `work`, or throws `TimedOut` once `limit` has passed. The caller is answered at
    /// the deadline even when `work` does not heed cancellation (a query waiting for a
    /// connection to a server that is down): `work` is cancelled and left to end on its
    /// own, where a task group would wait for it.
    @discardableResult
    func bounded<T: Sendable>(_ limit: Duration, _ work: @escaping @Sendable () async throws -> T) async throws -> T {
        let answer = OneAnswer<T>()
        let worker = Task { answer.give(await Result { try await work() }) }
        let timer = Task {
            try? await Task.sleep(for: limit)
            answer.give(.failure(TimedOut()))
        }
        defer {
            worker.cancel()
            timer.cancel()
        }
        return try await withTaskCancellationHandler {
            try await answer.value
        } onCancel: {
            answer.give(.failure(CancellationError()))
        }
    }
}

/// Tokens in the shared database, so every replica sees a revocation: each reloads its
/// copy when the generation, bumped in the same transaction, has moved.
extension PostgresMetadataIndex: TokenStore {
    public func insertToken(_ r: TokenRecord) async throws {
        let groups = r.groups.joined(separator: "\n"), scopes = r.scopes.joined(separator: "\n")
        try await bounded(deadline) { [self] in
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query("""
                    INSERT INTO access_tokens (id, user_name, groups, scopes, secret_hash, created_at, expires_at)
                    VALUES (\(r.id), \(r.user), \(groups), \(scopes), \(r.secretHash), \(r.createdAt), \(r.expiresAt))
                    """, logger: self.logger)
                try await connection.query("UPDATE access_generation SET generation = generation + 1 WHERE id = 1", logger: self.logger)
            }
        }
    }

    public func tokens() async throws -> [TokenRecord] {
        try await bounded(deadline) { [self] in
            var out: [TokenRecord] = []
            let rows = try await client.query("""
                SELECT id, user_name, groups, scopes, secret_hash, created_at, expires_at, last_used, revoked_at
                FROM access_tokens ORDER BY created_at, id
                """, logger: logger)
            for try await (id, user, groups, scopes, hash, created, expires, lastUsed, revoked) in
                rows.decode((String, String, String, String, String, Double, Double?, Double?, Double?).self) {
                out.append(TokenRecord(id: id, user: user, groups: groups.split(separator: "\n").map(String.init),
                                       scopes: scopes.split(separator: "\n").map(String.init), secretHash: hash, createdAt: created,
                                       expiresAt: expires, lastUsed: lastUsed, revokedAt: revoked))
            }
            return out
        }
    }

    public func revokeToken(id: String, at time: Double) async throws -> Bool {
        try await bounded(deadline) { [self] in
            try await client.withTransaction(logger: logger) { connection in
                var revoked = false
                let rows = try await connection.query(
                    "UPDATE access_tokens SET revoked_at = \(time) WHERE id = \(id) AND revoked_at IS NULL RETURNING id", logger: self.logger)
                for try await _ in rows { revoked = true }
                if revoked {
                    try await connection.query("UPDATE access_generation SET generation = generation + 1 WHERE id = 1", logger: self.logger)
                }
                return revoked
            }
        }
    }

    public func tokenGeneration() async throws -> Int64 {
        try await bounded(.seconds(2)) { [self] in
            var generation: Int64 = 0
            for try await g in try await client.query("SELECT generation FROM access_generation WHERE id = 1", logger: logger)
                .decode(Int64.self) { generation = g }
            return generation
        }
    }

    public func recordTokenUse(_ uses: [String: Double]) async throws {
        guard !uses.isEmpty else { return }
        let ids = Array(uses.keys), times = ids.map { uses[$0] ?? 0 }
        try await bounded(deadline) { [self] in
            try await client.query("""
                UPDATE access_tokens AS t SET last_used = GREATEST(COALESCE(t.last_used, 0), u.t)
                FROM unnest(\(ids)::text[], \(times)::float8[]) AS u(id, t) WHERE t.id = u.id
                """, logger: logger)
        }
    }
}

/// Audit events of every replica in the shared database: one statement per batch.
extension PostgresMetadataIndex: AuditStore {
    public func recordAudit(_ records: [AuditRecord]) async throws {
        guard !records.isEmpty else { return }
        let times = records.map(\.time), actions = records.map(\.action), users = records.map(\.user)
        let tokens = records.map { $0.token ?? "" }, addresses = records.map { $0.address ?? "" }
        let targets = records.map { $0.target ?? "" }, results = records.map(\.result), details = records.map { $0.detail ?? "" }
        try await bounded(deadline) { [self] in
            try await client.query("""
                INSERT INTO audit_events (time, action, user_name, token_id, address, target, result, detail)
                SELECT t, a, u, NULLIF(k, ''), NULLIF(ad, ''), NULLIF(g, ''), r, NULLIF(d, '')
                FROM unnest(\(times)::float8[], \(actions)::text[], \(users)::text[], \(tokens)::text[], \(addresses)::text[],
                            \(targets)::text[], \(results)::text[], \(details)::text[]) AS e(t, a, u, k, ad, g, r, d)
                """, logger: logger)
        }
    }

    public func auditEvents(since: Double, limit: Int) async throws -> [AuditRecord] {
        try await bounded(deadline) { [self] in
            var out: [AuditRecord] = []
            let rows = try await client.query("""
                SELECT time, action, user_name, token_id, address, target, result, detail FROM audit_events
                WHERE time >= \(since) ORDER BY time, id LIMIT \(limit)
                """, logger: logger)
            for try await (time, action, user, token, address, target, result, detail) in
                rows.decode((Double, String, String, String?, String?, String?, String, String?).self) {
                out.append(AuditRecord(time: time, action: action, user: user, token: token, address: address, target: target,
                                       result: result, detail: detail))
            }
            return out
        }
    }

    public func latestAuditEvents(targetPrefix: String?, limit: Int) async throws -> [AuditRecord] {
        let prefix = targetPrefix ?? ""
        return try await bounded(deadline) { [self] in
            var out: [AuditRecord] = []
            let rows = try await client.query("""
                SELECT time, action, user_name, token_id, address, target, result, detail FROM audit_events
                WHERE \(prefix) = '' OR starts_with(target, \(prefix)) ORDER BY time DESC, id DESC LIMIT \(limit)
                """, logger: logger)
            for try await (time, action, user, token, address, target, result, detail) in
                rows.decode((Double, String, String, String?, String?, String?, String, String?).self) {
                out.append(AuditRecord(time: time, action: action, user: user, token: token, address: address, target: target,
                                       result: result, detail: detail))
            }
            return out
        }
    }
}
