import Foundation
import TestServers
import Testing

/// Warren in front of Warren: an edge (an office) whose upstream is a central Warren (the
/// one with the route out), which fetches from the upstream and verifies against a
/// checksum database. The go command, through the edge alone, downloads and verifies
/// modules with the checksum database reached through the edge's and the central's
/// `/sumdb/` relays; with the central killed, the edge still serves what it holds.
@Suite struct TieredTests {
    let fixture = ModuleFixture.shared

    @Test func anEdgeServesThroughTheCentralAndKeepsServingWithoutIt() async throws {
        let sumdb = try await offThread { [fixture] in try SumDBServer(root: fixture.root) }
        defer { sumdb.stop() }
        let upstream = FaultyUpstream(root: fixture.root)
        try await upstream.start()
        defer { upstream.stop() }
        let central = try await WarrenServerProcess.start(arguments: ["--upstream", upstream.url, "--sumdb", sumdb.verifierKey + " " + sumdb.url])
        defer { central.kill() }
        let edge = try await WarrenServerProcess.start(arguments: [
            "--upstream", central.url, "--retries", "0", "--sumdb", sumdb.verifierKey + " " + central.url + "/sumdb/sum.test",
        ])
        defer { edge.stop() }

        // The go command knows only the edge: modules and checksum lookups go through it.
        let go = GoClient(proxy: edge.url, environment: ["GOSUMDB": sumdb.verifierKey, "GONOSUMDB": ""])
        let modules = ["github.com/kr/text@v0.2.0", "gopkg.in/yaml.v3@v3.0.1", "github.com/BurntSushi/toml@v1.2.1"]
        let first = try await go.run(["mod", "download", "-json"] + modules)
        #expect(first.status == 0, "\(first.stderr)")
        let lookups = sumdb.requests.filter { $0.contains("/lookup/") }
        #expect(lookups.count == 3, "the checksum database saw \(lookups)")
        #expect(upstream.count("github.com/kr/text/@v/v0.2.0.zip") == 1)
        // Immutable answers say so at the edge too.
        let zip = try await HTTP.get(edge.url + "/github.com/kr/text/@v/v0.2.0.zip")
        #expect(zip.headers["Cache-Control"].first?.contains("immutable") == true, "\(zip.headers)")

        // The central is gone: what the edge holds is still served, byte for byte.
        central.kill()
        let offline = GoClient(proxy: edge.url)
        let second = try await offline.run(["mod", "download", "-json"] + modules)
        #expect(second.status == 0, "\(second.stderr)")
        for m in modules {
            let parts = m.split(separator: "@").map(String.init)
            let want = try #require(fixture.module(parts[0], parts[1]))
            #expect(second.stdout.contains("\"Sum\": \"\(want.zipHash)\""), "\(m)")
        }
        // What it never held cannot come from a dead central: a clear upstream error.
        let missing = try await HTTP.get(edge.url + "/github.com/google/go-cmp/@v/v0.5.9.zip")
        #expect(missing.status == 502 || missing.status == 504, "\(missing.status) \(missing.text)")
        #expect(!missing.text.isEmpty && !missing.text.contains("\n\n"))
    }
}
