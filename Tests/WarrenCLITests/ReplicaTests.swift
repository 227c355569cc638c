import Foundation
import GoModule
import S3Client
import TestServers
import Testing

/// Three `warren serve` replicas on one bucket (radosgw) and one PostgreSQL database, as a
/// cluster runs: they take turns fetching through advisory locks, so a cold zip asked of
/// all three at once is fetched from the upstream once.
@Suite struct ReplicaTests {
    let fixture = ModuleFixture.shared

    struct Cluster {
        let replicas: [WarrenServerProcess]
        let postgres: PostgresServer
        let database: String
        let bucket: S3Client
        func stop() { for r in replicas { r.stop() } }
    }

    /// Advisory locks in this test's own database (pg_locks is cluster-wide, and other
    /// tests' replicas share the server).
    static let advisoryLocks = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
        + "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"

    /// - Parameter prepare: run with the database's URL before the replicas start; returns
    ///   more arguments for them.
    static func cluster(upstream: String, count: Int = 3,
                        prepare: (String) async throws -> [String] = { _ in [] }) async throws -> Cluster {
        let (server, bucket) = try await S3StorageServeTests.bucket()
        let postgres = try await PostgresServer.shared()
        let database = try await postgres.createDatabase()
        let arguments = ["--upstream", upstream, "--retries", "0", "--storage", "s3://\(bucket.configuration.bucket)/cluster",
                         "--s3-endpoint", server.endpoint, "--database", postgres.url(database)] + (try await prepare(postgres.url(database)))
        var replicas: [WarrenServerProcess] = []
        for _ in 0..<count {
            replicas.append(try await WarrenServerProcess.start(arguments: arguments, environment: S3StorageServeTests.environment(server)))
        }
        return Cluster(replicas: replicas, postgres: postgres, database: database, bucket: bucket)
    }

    @Test func fiveHundredColdRequestsOverThreeReplicasFetchOnce() async throws {
        let module = try #require(fixture.module("gopkg.in/yaml.v3", "v3.0.1"))
        let zipPath = ModuleFixture.artifactPath(module.path, module.version, "zip")
        let upstream = FaultyUpstream(root: fixture.root)
        try await upstream.start()
        defer { upstream.stop() }
        let cluster = try await Self.cluster(upstream: upstream.url)
        defer { cluster.stop() }
        // The .mod first, through one replica (the others find it in the bucket).
        #expect(try await HTTP.get(cluster.replicas[0].url + "/" + ModuleFixture.artifactPath(module.path, module.version, "mod")).status == 200)
        let gate = FaultyUpstream.Gate()
        upstream.setFault(zipPath, .gated(gate))

        let clients = 500
        let (replies, waiting) = try await offThread { () -> ([RawHTTP.Reply?], String) in
            let sockets = try (0..<clients).map { i in try TestSocket(port: cluster.replicas[i % cluster.replicas.count].port) }
            for socket in sockets { try socket.send("GET /\(zipPath) HTTP/1.1\r\nHost: t\r\n\r\n") }
            // One replica holds the lease and has asked the upstream; the other two wait on
            // theirs in PostgreSQL (three advisory locks, one granted).
            _ = eventually(timeout: 30) { upstream.count(zipPath) >= 1 }
            _ = eventually(timeout: 30) {
                (try? cluster.postgres.scalar(Self.advisoryLocks, database: cluster.database)) == "3"
            }
            let waiting = (try? cluster.postgres.scalar(Self.advisoryLocks + " AND NOT granted", database: cluster.database)) ?? "?"
            gate.fire()
            return (sockets.map { $0.readResponse(timeout: 90) }, waiting)
        }
        #expect(waiting == "2", "replicas waiting for the lease: \(waiting)")
        #expect(replies.count == clients)
        let bad = replies.enumerated().filter { $0.element?.status != 200 || $0.element?.bytes.count != module.zipSize }
        // What went wrong, if anything: each failure's status (or none), size and replica.
        let outcomes = Dictionary(grouping: bad) { i, r in
            "replica \(i % cluster.replicas.count): " + (r.map { "\($0.status), \($0.bytes.count) bytes" + ($0.status == 200 ? "" : ": \($0.body.prefix(200))") } ?? "no answer")
        }.mapValues(\.count)
        #expect(bad.isEmpty, "\(bad.count) failed: \(outcomes)")
        #expect(upstream.count(zipPath) == 1, "upstream fetches: \(upstream.count(zipPath))")
        if upstream.count(zipPath) != 1 || waiting != "2" || !bad.isEmpty {
            for (i, replica) in cluster.replicas.enumerated() { Issue.record("replica \(i) said: \(replica.stderr.suffix(3000))") }
        }
        let key = "cluster/" + (try PathEscaping.escapePath(module.path)) + "/@v/" + module.version + ".zip"
        #expect(try await cluster.bucket.headObject(key)?.metadata["warren-hash"] == module.zipHash)
        #expect(try await cluster.bucket.listOpenUploads(prefix: "cluster/").isEmpty)
        // All three indexed it once, in the shared index.
        #expect(try cluster.postgres.scalar("SELECT count(*) FROM module_versions WHERE zip_hash IS NOT NULL", database: cluster.database) == "1")
    }

    @Test func aReplicaKilledMidFetchHandsTheLeaseOn() async throws {
        let module = try #require(fixture.module("github.com/google/go-cmp", "v0.5.9"))
        let zipPath = ModuleFixture.artifactPath(module.path, module.version, "zip")
        let upstream = FaultyUpstream(root: fixture.root)
        try await upstream.start()
        defer { upstream.stop() }
        let cluster = try await Self.cluster(upstream: upstream.url, count: 2)
        defer { cluster.stop() }
        #expect(try await HTTP.get(cluster.replicas[0].url + "/" + ModuleFixture.artifactPath(module.path, module.version, "mod")).status == 200)
        let gate = FaultyUpstream.Gate()
        upstream.setFault(zipPath, .gated(gate))
        // The first replica takes the lease and hangs on the upstream; the second waits.
        let first = Task { try? await HTTP.get(cluster.replicas[0].url + "/" + zipPath, timeout: 60) }
        let arrived = await offThreadWait { eventually(timeout: 30) { upstream.count(zipPath) >= 1 } }
        #expect(arrived)
        let second = Task { try await HTTP.get(cluster.replicas[1].url + "/" + zipPath, timeout: 60) }
        let queued = await offThreadWait {
            eventually(timeout: 30) {
                (try? cluster.postgres.scalar(Self.advisoryLocks + " AND NOT granted", database: cluster.database)) == "1"
            }
        }
        #expect(queued, "the second replica is not waiting for the lease")
        // kill -9 the holder: its connection, and so its lock, is gone; the second
        // replica fetches the zip itself.
        cluster.replicas[0].kill()
        upstream.setFault(zipPath, nil)
        gate.fire()
        let reply = try await second.value
        #expect(reply.status == 200 && reply.body.count == module.zipSize)
        #expect(upstream.count(zipPath) == 2)
        _ = await first.value
    }
}

/// Replicas share the largest checksum-database tree head any of them verified (in the
/// bucket), so a log that forks after one replica saw it is caught by another replica that
/// never saw the database before.
@Suite struct SharedTreeHeadTests {
    let fixture = ModuleFixture.shared

    @Test func aForkIsCaughtByAReplicaThatNeverSawTheLog() async throws {
        let db = try SumDBServer(root: fixture.root)
        defer { db.stop() }
        let (server, bucket) = try await S3StorageServeTests.bucket()
        let arguments = ["--upstream", "file://" + fixture.root, "--sumdb", db.verifierKey + " " + db.url,
                         "--storage", "s3://\(bucket.configuration.bucket)/heads", "--s3-endpoint", server.endpoint]
        let first = try await WarrenServerProcess.start(arguments: arguments, environment: S3StorageServeTests.environment(server))
        #expect(try await HTTP.get(first.url + "/" + ModuleFixture.artifactPath("github.com/kr/text", "v0.2.0", "mod")).status == 200)
        #expect(try await bucket.headObject("heads/sumdb/sum.test/verified-head") != nil)
        first.stop()

        try await db.fork()
        // Another replica: its own empty data directory, so only the bucket knows the head.
        let second = try await WarrenServerProcess.start(arguments: arguments, environment: S3StorageServeTests.environment(server))
        defer { second.stop() }
        let r = try await HTTP.get(second.url + "/" + ModuleFixture.artifactPath("github.com/BurntSushi/toml", "v1.2.1", "mod"))
        #expect(r.status == 502)
        #expect(r.text.contains("forked"), "\(r.text)")
    }
}

/// Waits on a thread of its own for a blocking condition.
func offThreadWait(_ body: @escaping @Sendable () -> Bool) async -> Bool {
    (try? await offThread { body() }) ?? false
}
