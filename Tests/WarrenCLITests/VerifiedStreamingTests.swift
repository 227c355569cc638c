import Foundation
import Testing

/// A zip verified against a checksum database streams to its clients while it downloads,
/// like any other: only its last bytes wait for the verdict.
@Suite struct VerifiedStreamingTests {
    let fixture = ModuleFixture.shared

    @Test func aVerifiedZipStreamsBeforeTheUpstreamHasSentIt() async throws {
        let db = try SumDBServer(root: fixture.root)
        defer { db.stop() }
        let text = try #require(fixture.module("golang.org/x/text", "v0.7.0"))
        let zipPath = ModuleFixture.artifactPath(text.path, text.version, "zip")
        let (upstream, warren) = try await startProxyOnFixture(["--sumdb", db.verifierKey + " " + db.url])
        defer { warren.stop(); upstream.stop() }
        // The upstream sends 1 MiB and then holds the rest until the test opens the gate.
        let gate = FaultyUpstream.Gate()
        upstream.setFault(zipPath, .gatedBody(afterBytes: 1 << 20, gate: gate))
        let expected = Array(try Data(contentsOf: URL(fileURLWithPath: fixture.root + "/" + zipPath)))

        let (early, reply) = try await offThread { () -> (Int, [UInt8]) in
            let client = try TestSocket(port: warren.port)
            try client.send("GET /\(zipPath) HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            // While the upstream holds back, Warren has already sent what it may.
            var received: [UInt8] = []
            while received.count < 768 << 10, case .data(let d) = client.receive(timeout: 30) { received += d }
            let early = received.count
            gate.fire()
            received += client.readToEnd(timeout: 60).bytes
            return (early, received)
        }
        #expect(early >= 768 << 10, "only \(early) bytes arrived before the upstream finished")
        let text200 = String(decoding: reply.prefix(12), as: UTF8.self)
        #expect(text200 == "HTTP/1.1 200")
        let separator = Array("\r\n\r\n".utf8)
        let bodyStart = try #require(reply.firstRange(of: separator)).upperBound
        #expect(Array(reply[bodyStart...]) == expected, "the streamed zip differs from the upstream's")
        #expect(db.requests.contains("/lookup/golang.org/x/text@v0.7.0"))
        // Verified and stored: the next client gets it from storage with its h1: ETag.
        let again = try await HTTP.get(warren.url + "/" + zipPath)
        #expect(again.headers.first(name: "ETag") == "\"\(text.zipHash)\"")
        #expect(upstream.count(zipPath) == 1)
    }
}
