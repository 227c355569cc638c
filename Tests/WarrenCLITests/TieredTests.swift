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

    /// `Disable-Module-Fetch: true` at an edge with `--disable-fetch upstream`: what the
    /// central holds is served (the header passed on, so the central fetches nothing new),
    /// what it does not hold is "not cached" and no upstream is asked; an edge with the
    /// default (`local`) answers from its own store only.
    @Test func disableModuleFetchFlowsThroughToTheCentral() async throws {
        let upstream = FaultyUpstream(root: fixture.root)
        try await upstream.start()
        defer { upstream.stop() }
        let central = try await WarrenServerProcess.start(arguments: ["--upstream", upstream.url])
        defer { central.stop() }
        let edge = try await WarrenServerProcess.start(arguments: ["--upstream", central.url, "--disable-fetch", "upstream"])
        defer { edge.stop() }
        let localEdge = try await WarrenServerProcess.start(arguments: ["--upstream", central.url])
        defer { localEdge.stop() }
        let held = "github.com/kr/text/@v/v0.2.0"
        for ext in ["info", "mod", "zip"] { #expect(try await HTTP.get(central.url + "/\(held).\(ext)").status == 200) }
        let cachedOnly = [("Disable-Module-Fetch", "true")]

        let zip = try await HTTP.get(edge.url + "/\(held).zip", headers: cachedOnly)
        let original = try Data(contentsOf: URL(fileURLWithPath: fixture.root + "/\(held).zip"))
        #expect(zip.status == 200 && Data(zip.body) == original)
        #expect(upstream.count("\(held).zip") == 1, "the central fetched again")
        let notHeld = "gopkg.in/yaml.v3/@v/v3.0.1"
        let refused = try await HTTP.get(edge.url + "/\(notHeld).mod", headers: cachedOnly)
        #expect(refused.status == 404 && refused.text.contains("not cached"), "\(refused.status) \(refused.text)")
        #expect(upstream.count("\(notHeld).mod") == 0, "an upstream was asked for what nobody held")
        // Without the header the edge fetches through the central as usual.
        #expect(try await HTTP.get(edge.url + "/\(notHeld).mod").status == 200)

        let local = try await HTTP.get(localEdge.url + "/\(held).info", headers: cachedOnly)
        #expect(local.status == 404 && local.text.contains("not cached"), "\(local.status) \(local.text)")
    }
}
