import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A real PostgreSQL 15 (Debian's) for the tests: `initdb` into a temporary directory
/// (as the postgres user: initdb refuses root), started on a loopback port of its own the
/// first time a test asks, shared by the whole run, stopped when the test process exits
/// (or, if it is killed, by a watchdog). Each test takes a database of its own.
public final class PostgresServer: Sendable {
    public let port: Int
    public let directory: String
    static let bin = "/usr/lib/postgresql/15/bin"

    /// The run's server, started on first use.
    public static func shared() async throws -> PostgresServer {
        try await starter.value
    }

    private static let starter = Task { () throws -> PostgresServer in
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try PostgresServer(name: "shared") }) }.start()
        }
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// A server of the test's own, for a test that stops and starts it (the shared one
    /// must stay up for the others).
    public static func dedicated() async throws -> PostgresServer {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try PostgresServer(name: UUID().uuidString.prefix(8).lowercased()) }) }.start()
        }
    }

    /// Every server's directory, for the exit handler.
    private static let started = Mutex<[String]>([])

    private init(name: String) throws {
        port = try RadosGateway.freePort()
        directory = FileManager.default.temporaryDirectory.path + "/warren-pg-test-\(getpid())-\(name)"
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let chown = try TestProcess.run("/bin/chown", ["postgres:postgres", directory])
        guard chown.status == 0 else { throw Failure(description: "chown: \(chown.stderr)") }
        let initdb = try Self.asPostgres([Self.bin + "/initdb", "-D", directory + "/data", "-A", "trust", "-U", "warren", "-E", "UTF8",
                                          "--no-sync"])
        guard initdb.status == 0 else { throw Failure(description: "initdb: \(initdb.stderr)") }
        try start()
        let first = Self.started.withLock { dirs in
            dirs.append(directory)
            return dirs.count == 1
        }
        if first { atexit { PostgresServer.stopAtExit() } }
        let pid = getpid(), dir = directory
        _ = system("(while kill -0 \(pid) 2>/dev/null; do sleep 1; done; runuser -u postgres -- \(Self.bin)/pg_ctl -D '\(dir)/data' -m immediate stop;"
                   + " rm -rf '\(dir)') </dev/null >/dev/null 2>&1 &")
    }

    /// `postgres://…` for `database` (created by `createDatabase`).
    public func url(_ database: String) -> String {
        "postgres://warren@127.0.0.1:\(port)/\(database)?sslmode=disable"
    }

    /// A fresh database for one test (its name), made on a thread of its own (psql
    /// blocks, and the concurrency runtime's threads are few).
    public func createDatabase() async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try self.createDatabaseNow() }) }.start()
        }
    }

    func createDatabaseNow() throws -> String {
        let name = "t_" + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "_")
        let result = try TestProcess.run("/usr/bin/psql", ["-h", "127.0.0.1", "-p", String(port), "-U", "warren", "-d", "postgres",
                                                           "-v", "ON_ERROR_STOP=1", "-c", "CREATE DATABASE \(name)"])
        guard result.status == 0 else { throw Failure(description: "CREATE DATABASE: \(result.stderr)") }
        return name
    }

    /// Starts the server (again) and waits until it accepts connections.
    public func start() throws {
        let result = try Self.asPostgres([Self.bin + "/pg_ctl", "-D", directory + "/data", "-l", directory + "/log", "-w", "-t", "30",
                                          "-o", "-p \(port) -k \(directory) -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
                                          "start"])
        guard result.status == 0 else {
            let log = (try? String(contentsOfFile: directory + "/log", encoding: .utf8)) ?? ""
            throw Failure(description: "pg_ctl start: \(result.stdout) \(result.stderr) \(log.suffix(1500))")
        }
    }

    /// Stops it at once (connections are cut), as a crash or a failover would.
    public func stop() throws {
        let result = try Self.asPostgres([Self.bin + "/pg_ctl", "-D", directory + "/data", "-m", "immediate", "-w", "stop"])
        guard result.status == 0 else { throw Failure(description: "pg_ctl stop: \(result.stderr)") }
    }

    static func asPostgres(_ command: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try TestProcess.run("/usr/sbin/runuser", ["-u", "postgres", "--"] + command,
                            environment: ["PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"], directory: "/")
    }

    static func stopAtExit() {
        for dir in started.withLock({ $0 }) {
            _ = system("runuser -u postgres -- \(bin)/pg_ctl -D '\(dir)/data' -m immediate stop >/dev/null 2>&1; rm -rf '\(dir)'")
        }
    }
}

extension PostgresServer {
    /// One value from a query, through psql (for tests that watch the server's state).
    public func scalar(_ sql: String, database: String) throws -> String {
        let result = try TestProcess.run("/usr/bin/psql", ["-h", "127.0.0.1", "-p", String(port), "-U", "warren", "-d", database,
                                                           "-At", "-v", "ON_ERROR_STOP=1", "-c", sql])
        guard result.status == 0 else { throw Failure(description: "psql: \(result.stderr)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
