import Foundation
import Testing

@Suite struct SingleFlightTests {
    /// 200 client connections, every one with its request sent before the upstream has
    /// answered anything, make exactly one upstream fetch, and all get the whole zip.
    @Test func twoHundredColdRequestsOneFetch() async throws {
        let fixture = ModuleFixture.shared
        let module = try #require(fixture.module("gopkg.in/yaml.v3", "v3.0.1"))
        let zipPath = ModuleFixture.artifactPath(module.path, module.version, "zip")
        let (upstream, warren) = try await startProxyOnFixture()
        defer { warren.stop(); upstream.stop() }
        // Warm .mod first: the zip fetch needs it, and it is not what is being counted.
        #expect(try await HTTP.get(warren.url + "/" + ModuleFixture.artifactPath(module.path, module.version, "mod")).status == 200)
        // The upstream answers nothing until every client has connected and asked.
        let gate = FaultyUpstream.Gate()
        upstream.setFault(zipPath, .gated(gate))

        let replies = try await offThread { () -> [RawHTTP.Reply?] in
            let clients = try (0..<200).map { _ in try TestSocket(port: warren.port) }
            for client in clients { try client.send("GET /\(zipPath) HTTP/1.1\r\nHost: t\r\n\r\n") }
            // Every request is in: Warren has asked the upstream (once) and waits.
            _ = eventually(timeout: 20) { upstream.count(zipPath) >= 1 }
            gate.fire()
            return clients.map { $0.readResponse(timeout: 60) }
        }
        #expect(replies.count == 200)
        #expect(replies.allSatisfy { $0?.status == 200 && $0?.bytes.count == module.zipSize })
        #expect(upstream.count(zipPath) == 1, "upstream fetches: \(upstream.count(zipPath))")
    }
}
