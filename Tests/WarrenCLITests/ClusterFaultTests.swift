import AsyncHTTPClient
import Foundation
import GoModule
import Logging
import PostgresIndex
import S3Client
import Synchronization
import TestServers
import Testing
import WarrenCore

/// A cluster losing a replica in the middle of a hundred cold downloads: nginx in front
/// of three replicas on one bucket (radosgw) and one PostgreSQL database, the real go
/// command as the client, and a replica killed with SIGKILL while every zip is arriving.
/// Every download must still succeed (the go command tries the next GOPROXY entry after
/// a broken answer, `|`; nginx skips the dead replica), and afterwards the bucket, the
/// shared index and the checksum database must agree on every zip's `h1:`.
@Suite struct ReplicaKillTests {
    /// `count` modules `kill.example/mNNN@v1.0.0` in a GOPROXY tree, each zip a little
    /// under 100 KiB of incompressible bytes.
    static func makeModules(count: Int) throws -> (root: String, modules: [String]) {
        let root = FileManager.default.temporaryDirectory.path + "/warren-kill-\(UUID().uuidString.prefix(8))"
        var modules: [String] = []
        var noise = SystemRandomNumberGenerator()
        for i in 0..<count {
            let module = "kill.example/m" + String(format: "%03d", i)
            let dir = root + "/" + module + "/@v"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let goMod = Array("module \(module)\n\ngo 1.21\n".utf8)
            let data = (0..<(96 * 1024)).map { _ in UInt8.random(in: 0...255, using: &noise) }
            let sink = try WritableFile(creating: dir + "/v1.0.0.zip")
            _ = try ModuleZipWriter.create(module: module, version: "v1.0.0", files: [.memory("go.mod", goMod), .memory("data.bin", data)],
                                           to: sink)
            try Data(goMod).write(to: URL(fileURLWithPath: dir + "/v1.0.0.mod"))
            try Data(#"{"Version":"v1.0.0","Time":"2024-01-01T00:00:00Z"}"#.utf8).write(to: URL(fileURLWithPath: dir + "/v1.0.0.info"))
            try Data("v1.0.0\n".utf8).write(to: URL(fileURLWithPath: dir + "/list"))
            modules.append(module)
        }
        return (root, modules)
    }

    @Test func killingAReplicaDuringAHundredColdDownloadsLosesNone() async throws {
        let (tree, modules) = try await offThread { try Self.makeModules(count: 100) }
        defer { try? FileManager.default.removeItem(atPath: tree) }
        let sumdb = try await offThread { try SumDBServer(root: tree) }
        defer { sumdb.stop() }
        let upstream = FaultyUpstream(root: tree)
        try await upstream.start()
        defer { upstream.stop() }
        // Every zip arrives in part and then stalls until the replica has been killed.
        let gate = FaultyUpstream.Gate()
        let zipPaths = modules.map { $0 + "/@v/v1.0.0.zip" }
        for path in zipPaths { upstream.setFault(path, .gatedBody(afterBytes: 1024, gate: gate)) }

        let (server, bucket) = try await S3StorageServeTests.bucket()
        let postgres = try await PostgresServer.shared()
        let database = try await postgres.createDatabase()
        let arguments = ["--upstream", upstream.url, "--retries", "0", "--sumdb", sumdb.verifierKey + " " + sumdb.url,
                         "--storage", "s3://\(bucket.configuration.bucket)/kill", "--s3-endpoint", server.endpoint,
                         "--database", postgres.url(database)]
        var replicas: [WarrenServerProcess] = []
        for _ in 0..<3 {
            replicas.append(try await WarrenServerProcess.start(arguments: arguments, environment: S3StorageServeTests.environment(server)))
        }
        defer { for replica in replicas { replica.stop() } }
        let nginx = try await NginxBalancer.start(replicaPorts: replicas.map(\.port))
        defer { nginx.stop() }

        // The same balancer twice with `|`: after a broken answer the go command asks again.
        let client = GoClient(proxy: nginx.url + "|" + nginx.url)
        let victim = replicas[0]
        async let killed: (Bool, Int) = {
            // Once every zip has been asked of the upstream, all hundred are arriving.
            let arriving = await offThreadWait { eventually(timeout: 180) { zipPaths.allSatisfy { upstream.count($0) >= 1 } } }
            victim.kill()
            gate.fire()
            return (arriving, zipPaths.filter { upstream.count($0) >= 1 }.count)
        }()
        let results = try await withThrowingTaskGroup(of: (String, GoClient.Result).self) { group in
            for module in modules {
                group.addTask { (module, try await client.run(["mod", "download", "-json", module + "@v1.0.0"])) }
            }
            var all: [(String, GoClient.Result)] = []
            for try await result in group { all.append(result) }
            return all
        }
        let (arrived, arriving) = await killed
        #expect(arrived, "only \(arriving) of the zips were arriving within 180 s")
        let failed = results.filter { $0.1.status != 0 }
        #expect(failed.isEmpty, "\(failed.count) downloads failed: \(failed.prefix(3).map { "\($0.0): \($0.1.stderr)" })")
        // The kill cut answers in mid-body: nginx saw it.
        let log = nginx.errorLog
        #expect(log.contains("prematurely closed") || log.contains("reset by peer"), "nginx saw no broken answer: \(log.suffix(2000))")

        // A zip goes to its client once verified, and into the bucket and the index just
        // after: the surviving replicas finish those writes when they stop (a graceful stop
        // drains them), and then the bucket, the index and the checksum database agree on
        // every zip.
        let survivors = Array(replicas.dropFirst())
        try await offThread { for replica in survivors { replica.stop() } }
        let rows = try await offThread {
            try postgres.scalar("SELECT string_agg(module || ' ' || zip_hash, E'\\n') FROM module_versions WHERE zip_hash IS NOT NULL",
                                database: database)
        }
        var indexed: [String: String] = [:]
        for line in rows.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2 { indexed[String(parts[0])] = String(parts[1]) }
        }
        #expect(indexed.count == modules.count, "\(indexed.count) zips in the index")
        var disagreements: [String] = []
        for module in modules {
            let stored = try await bucket.headObject("kill/" + module + "/@v/v1.0.0.zip")?.metadata["warren-hash"]
            let lookup = try await HTTP.get(sumdb.url + "/lookup/" + module + "@v1.0.0").text
            let logged = lookup.split(separator: "\n").first { $0.hasPrefix(module + " v1.0.0 ") }?.split(separator: " ").last.map(String.init)
            if stored == nil || stored != indexed[module] || stored != logged {
                disagreements.append("\(module): bucket \(stored ?? "none"), index \(indexed[module] ?? "none"), sumdb \(logged ?? "none")")
            }
            // Fetched once, or twice when the replica fetching it was the one killed.
            if upstream.count(module + "/@v/v1.0.0.zip") > 2 {
                disagreements.append("\(module): fetched \(upstream.count(module + "/@v/v1.0.0.zip")) times")
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements.prefix(5))")
        #expect(try await bucket.listOpenUploads(prefix: "kill/").isEmpty)
    }

    /// A replica killed while a large zip went up leaves its multipart upload open; the
    /// next replica to start aborts it, since the zip's fetch lease is free, and leaves
    /// alone an upload whose lease a live replica holds and one under a key Warren never
    /// writes.
    @Test func uploadsAKilledReplicaLeftOpenAreAbortedByTheNextToStart() async throws {
        let (server, bucket) = try await S3StorageServeTests.bucket()
        let postgres = try await PostgresServer.shared()
        let database = try await postgres.createDatabase()
        let abandoned = try await bucket.createMultipartUpload("sweep/example.com/a/@v/v1.0.0.zip")
        let coordinator = try PostgresFetchCoordinator(url: postgres.url(database), logger: Logger(label: "test"))
        let lease = try await coordinator.acquire(.artifact(module: "example.com/b", version: "v1.0.0", kind: .zip))
        let busy = try await bucket.createMultipartUpload("sweep/example.com/b/@v/v1.0.0.zip")
        let foreign = try await bucket.createMultipartUpload("sweep/notes/readme.txt")
        let replica = try await WarrenServerProcess.start(
            arguments: ["--upstream", "file://" + ModuleFixture.shared.root, "--storage", "s3://\(bucket.configuration.bucket)/sweep",
                        "--s3-endpoint", server.endpoint, "--database", postgres.url(database)],
            environment: S3StorageServeTests.environment(server))
        defer { replica.stop() }
        let swept = await offThreadWait {
            replica.process.stderr.waitFor(timeout: 30) { $0.contains("aborted multipart uploads") }.contains("aborted multipart uploads")
        }
        #expect(swept, "no sweep: \(replica.stderr.suffix(2000))")
        let open = Set(try await bucket.listOpenUploads(prefix: "sweep/").map(\.uploadID))
        #expect(!open.contains(abandoned))
        #expect(open == [busy, foreign])
        await lease.release()
        for id in [busy, foreign] {
            let key = id == busy ? "sweep/example.com/b/@v/v1.0.0.zip" : "sweep/notes/readme.txt"
            try await bucket.abortMultipartUpload(key, uploadID: id)
        }
    }
}

/// PostgreSQL restarted, then the S3 service stopped, while clients keep asking two
/// replicas for modules: what needs the missing service answers 503 with a one-line
/// reason and `/readyz` says which service is down; what the local tier holds is still
/// served; nothing crashes or hangs; and once each service is back, full service returns
/// with no manual step (the index records what it missed meanwhile).
@Suite struct ServiceOutageTests {
    let fixture = ModuleFixture.shared

    /// Every answer the load saw, by outcome.
    final class Tally: Sendable {
        let outcomes = Mutex<[String: Int]>([:])
        let badAnswers = Mutex<[String]>([])

        func add(_ outcome: String) { outcomes.withLock { $0[outcome, default: 0] += 1 } }
        func bad(_ text: String) { badAnswers.withLock { $0.append(text) } }
    }

    /// Clients asking for `paths` of the replicas, round and round, until cancelled.
    static func load(_ replicas: [WarrenServerProcess], _ paths: [String], tally: Tally) async {
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<6 {
                group.addTask {
                    var i = worker
                    while !Task.isCancelled {
                        let replica = replicas[i % replicas.count], path = paths[i % paths.count]
                        i += 1
                        do {
                            let r = try await HTTP.get(replica.url + path, timeout: 20)
                            tally.add(String(r.status))
                            let text = r.text.trimmingCharacters(in: .newlines)
                            if r.status != 200 && (r.status != 503 || text.isEmpty || text.contains("\n")) {
                                tally.bad("\(path): \(r.status) \(text.prefix(300))")
                            }
                        } catch is CancellationError {
                            return
                        } catch {
                            if Task.isCancelled { return }
                            tally.add("error")
                            tally.bad("\(path): \(error)")
                        }
                    }
                }
            }
        }
    }

    /// Polls `url` until its answer satisfies `ok` (or 60 s pass); the last answer.
    static func awaitAnswer(_ url: String, _ ok: (HTTPExchange) -> Bool) async -> HTTPExchange? {
        let until = ContinuousClock.now + .seconds(60)
        var last: HTTPExchange?
        while ContinuousClock.now < until {
            last = try? await HTTP.get(url, timeout: 10)
            if let last, ok(last) { return last }
            try? await Task.sleep(for: .milliseconds(100))  // polling the server's state
        }
        return last
    }

    @Test func restartingPostgresThenStoppingS3IsClearAndHealsItself() async throws {
        let postgres = try await PostgresServer.dedicated()
        let database = try await postgres.createDatabase()
        let rgw = try await RadosGateway.dedicated()
        let configuration = try S3Configuration.make(
            endpoint: rgw.endpoint, region: rgw.region, bucket: "warren-outage", pathStyle: nil,
            credentials: AWSCredentials(accessKeyID: rgw.accessKeyID, secretAccessKey: rgw.secretAccessKey))
        try await S3Client(configuration: configuration, http: S3StorageServeTests.http).createBucket()
        let upstream = FaultyUpstream(root: fixture.root)
        try await upstream.start()
        defer { upstream.stop() }
        let arguments = ["--upstream", upstream.url, "--retries", "0", "--storage", "s3://warren-outage/o", "--s3-endpoint", rgw.endpoint,
                         "--database", postgres.url(database)]
        let a = try await WarrenServerProcess.start(arguments: arguments, environment: S3StorageServeTests.environment(rgw))
        defer { a.stop() }
        let b = try await WarrenServerProcess.start(arguments: arguments, environment: S3StorageServeTests.environment(rgw))
        defer { b.stop() }

        let zips = fixture.modules.filter { $0.zipSize > 0 }
        try #require(zips.count >= 5)
        let warm = Array(zips.prefix(3))
        let (coldDuringDatabaseOutage, coldDuringStorageOutage) = (zips[3], zips[4])
        var paths: [String] = []
        for m in warm {
            for ext in ["info", "mod", "zip"] { paths.append("/" + ModuleFixture.artifactPath(m.path, m.version, ext)) }
            paths.append("/" + (try PathEscaping.escapePath(m.path)) + "/@v/list")
        }
        // Both replicas hold the warm set in their local tiers.
        for replica in [a, b] {
            for path in paths { #expect(try await HTTP.get(replica.url + path).status == 200, "\(path)") }
        }
        paths.append("/readyz")
        let tally = Tally()
        let loaded = paths
        let load = Task { await Self.load([a, b], loaded, tally: tally) }

        // PostgreSQL goes away.
        try await offThread { try postgres.stop() }
        for replica in [a, b] {
            let ready = await Self.awaitAnswer(replica.url + "/readyz") { $0.status == 503 }
            #expect(ready?.status == 503 && ready?.text.contains("postgres://") == true, "\(ready?.text ?? "no answer")")
        }
        // The feed needs the index: a clear 503.
        let feed = try await HTTP.get(a.url + "/index")
        #expect(feed.status == 503 && !feed.text.trimmingCharacters(in: .newlines).contains("\n"), "\(feed.status) \(feed.text)")
        // A cold module is still fetched and stored (the replica fetches without taking
        // turns); the index misses it for now.
        let coldMod = "/" + ModuleFixture.artifactPath(coldDuringDatabaseOutage.path, coldDuringDatabaseOutage.version, "mod")
        #expect(try await HTTP.get(b.url + coldMod).status == 200)
        try await offThread { try postgres.start() }
        for replica in [a, b] {
            let ready = await Self.awaitAnswer(replica.url + "/readyz") { $0.status == 200 }
            #expect(ready?.status == 200, "not ready again: \(ready?.text ?? "no answer")")
        }
        // What the index missed is recorded without a rebuild.
        let versions = await Self.awaitAnswer(a.url + "/index") { $0.text.contains(coldDuringDatabaseOutage.path) }
        #expect(versions?.text.contains(coldDuringDatabaseOutage.path) == true, "the index did not catch up: \(versions?.text ?? "")")

        // The S3 service goes away.
        try await rgw.stopGateway()
        for replica in [a, b] {
            let ready = await Self.awaitAnswer(replica.url + "/readyz") { $0.status == 503 }
            #expect(ready?.status == 503 && ready?.text.contains(rgw.endpoint.replacingOccurrences(of: "http://", with: "")) == true,
                    "\(ready?.text ?? "no answer")")
        }
        // What needs the bucket: a clear 503 naming it. What the tier holds: served.
        let coldInfo = "/" + ModuleFixture.artifactPath(coldDuringStorageOutage.path, coldDuringStorageOutage.version, "info")
        let refused = try await HTTP.get(a.url + coldInfo, timeout: 30)
        #expect(refused.status == 503 && refused.text.contains("object storage"), "\(refused.status) \(refused.text)")
        #expect(try await HTTP.get(a.url + paths[2]).status == 200)
        try await rgw.startGateway()
        for replica in [a, b] {
            let ready = await Self.awaitAnswer(replica.url + "/readyz") { $0.status == 200 }
            #expect(ready?.status == 200, "not ready again: \(ready?.text ?? "no answer")")
        }
        let healed = await Self.awaitAnswer(a.url + coldInfo) { $0.status == 200 }
        #expect(healed?.status == 200, "\(healed?.status ?? 0) \(healed?.text ?? "")")

        load.cancel()
        await load.value
        let outcomes = tally.outcomes.withLock { $0 }
        let bad = tally.badAnswers.withLock { $0 }
        #expect(bad.isEmpty, "answers other than 200 or a one-line 503: \(bad.prefix(5)); outcomes \(outcomes)")
        #expect((outcomes["503"] ?? 0) > 0, "the load never saw an outage: \(outcomes)")
        #expect((outcomes["200"] ?? 0) > (outcomes["503"] ?? 0), "\(outcomes)")
        #expect(a.process.isRunning && b.process.isRunning, "a replica exited")
        // Every artifact of the run is back to full service on both replicas.
        for replica in [a, b] {
            for path in paths { #expect(try await HTTP.get(replica.url + path).status == 200, "\(path)") }
        }
    }
}
