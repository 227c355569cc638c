import Foundation
import GoModule
import Testing

/// The cold path under faults: a crash in the middle of many verified downloads, and an
/// upstream that stalls mid-zip. Nothing partial is ever served or kept.
@Suite struct CrashRecoveryTests {
    let fixture = ModuleFixture.shared

    static func stagingFiles(_ dataDir: String) -> [String] {
        (FileManager.default.enumerator(atPath: dataDir)?.allObjects as? [String] ?? []).filter { $0.contains(".tmp-") }
    }

    /// kill -9 while 100 clients download verified zips (checksum database on loopback),
    /// then a restart on the same data directory: the crashed downloads' staging files are
    /// swept, nothing was stored, and every zip served afterwards has the database's `h1:`.
    @Test func killDuringVerifiedDownloadsThenRestart() async throws {
        let db = try SumDBServer(root: fixture.root)
        defer { db.stop() }
        let upstream = FaultyUpstream(root: fixture.root)
        try await upstream.start()
        defer { upstream.stop() }
        let zipModules = fixture.modules.filter { $0.zipSize > 0 }
        // Each upstream zip stops halfway until the gate opens, which it does only after the kill.
        let gate = FaultyUpstream.Gate()
        for m in zipModules {
            upstream.setFault(ModuleFixture.artifactPath(m.path, m.version, "zip"), .gatedBody(afterBytes: m.zipSize / 2, gate: gate))
        }
        let dataDir = FileManager.default.temporaryDirectory.path + "/warren-crash-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dataDir) }
        let arguments = ["--upstream", upstream.url, "--retries", "0", "--sumdb", db.verifierKey + " " + db.url]

        let first = try await WarrenServerProcess.start(arguments: arguments, dataDir: dataDir)
        for m in zipModules {  // the .mods (and so the lookups) first, as the go command does
            #expect(try await HTTP.get(first.url + "/" + ModuleFixture.artifactPath(m.path, m.version, "mod")).status == 200)
        }
        let (started, received) = try await offThread { () -> (Bool, [(Int, Int)]) in
            let clients = try (0..<100).map { i -> TestSocket in
                let m = zipModules[i % zipModules.count]
                let socket = try TestSocket(port: first.port)
                try socket.send("GET /\(ModuleFixture.artifactPath(m.path, m.version, "zip")) HTTP/1.1\r\nHost: t\r\n\r\n")
                return socket
            }
            // Every download is under way: its staging file exists and the upstream has sent half.
            let underWay = eventually(timeout: 20) {
                Self.stagingFiles(dataDir).count >= zipModules.count
                    && zipModules.allSatisfy { upstream.count(ModuleFixture.artifactPath($0.path, $0.version, "zip")) == 1 }
            }
            first.kill()
            let received = clients.enumerated().map { i, client in
                (client.readToEnd(timeout: 10).bytes.count, zipModules[i % zipModules.count].zipSize)
            }
            return (underWay, received)
        }
        #expect(started, "the downloads never got going: \(Self.stagingFiles(dataDir))")
        // Nobody got a complete zip: the bytes sent (head included) stop short of it.
        #expect(received.allSatisfy { $0.0 < $0.1 }, "a client received a whole zip from a download that never finished")
        gate.fire()
        #expect(!Self.stagingFiles(dataDir).isEmpty, "the kill should have interrupted downloads")

        upstream.clearFaults()
        let second = try await WarrenServerProcess.start(arguments: arguments, dataDir: dataDir)
        defer { second.stop() }
        #expect(Self.stagingFiles(dataDir).isEmpty, "leftovers not removed at start: \(Self.stagingFiles(dataDir))")
        let scratch = FileManager.default.temporaryDirectory.path + "/warren-crash-check-\(UUID().uuidString).zip"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        for m in zipModules {
            let path = "/" + ModuleFixture.artifactPath(m.path, m.version, "zip")
            // Nothing from before the crash is served...
            let cachedOnly = try await HTTP.get(second.url + path, headers: [("Disable-Module-Fetch", "true")])
            #expect(cachedOnly.status == 404, "\(m.path): something was stored by the crashed process")
            // ...and what is fetched now is verified: the database's hash, byte for byte.
            let r = try await HTTP.get(second.url + path)
            #expect(r.status == 200)
            try Data(r.body).write(to: URL(fileURLWithPath: scratch))
            #expect(try Hash1.hashZip(path: scratch) == m.zipHash, "\(m.path)@\(m.version)")
            #expect(try await HTTP.get(second.url + path).headers.first(name: "ETag") == "\"\(m.zipHash)\"")
        }
    }

    /// An upstream that stops sending in the middle of a zip: the clients are cut (none
    /// gets a complete zip), nothing is stored, and the next request starts afresh.
    @Test func anUpstreamStallingMidZipCutsClientsAndKeepsNothing() async throws {
        let text = try #require(fixture.module("golang.org/x/text", "v0.7.0"))
        let zipPath = ModuleFixture.artifactPath(text.path, text.version, "zip")
        // No byte for 5 s counts as a stall (the upstream read timeout).
        let (upstream, warren) = try await startProxyOnFixture(["--header-timeout", "5s"])
        defer { warren.stop(); upstream.stop() }
        // The .mod first, as the go command asks: only the zip stalls.
        #expect(try await HTTP.get(warren.url + "/" + ModuleFixture.artifactPath(text.path, text.version, "mod")).status == 200)
        let gate = FaultyUpstream.Gate()
        upstream.setFault(zipPath, .gatedBody(afterBytes: 1 << 20, gate: gate))
        let replies = try await offThread { () -> [(bytes: Int, ended: Bool)] in
            let clients = try (0..<3).map { _ in try TestSocket(port: warren.port) }
            for client in clients { try client.send("GET /\(zipPath) HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n") }
            // The stall starts once the upstream has been asked (and has sent its first MiB).
            #expect(eventually(timeout: 30) { upstream.count(zipPath) == 1 })
            return clients.map { client in
                let reply = client.readToEnd(timeout: 60)
                return (reply.bytes.count, reply.ended)
            }
        }
        for reply in replies {
            #expect(reply.ended, "a client was left hanging on a stalled download")
            #expect(reply.bytes < text.zipSize, "a client received \(reply.bytes) bytes of a zip that never finished")
        }
        gate.fire()
        #expect(!FileManager.default.fileExists(atPath: warren.dataDir + "/modules/" + zipPath))
        #expect(CrashRecoveryTests.stagingFiles(warren.dataDir).isEmpty)
        upstream.clearFaults()
        let again = try await HTTP.get(warren.url + "/" + zipPath)
        #expect(again.status == 200 && again.body.count == text.zipSize)
        #expect(upstream.count(zipPath) == 2)
    }
}
