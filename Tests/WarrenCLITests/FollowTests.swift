import Foundation
import TestServers
import Testing

/// `--follow`: a downstream Warren reads its source's `/index` feed and mirrors, as they
/// appear, the versions that match its patterns — those it never was asked for included —
/// and nothing else.
@Suite struct FollowTests {
    let fixture = ModuleFixture.shared

    /// Whether the downstream holds it: asked without letting it fetch.
    static func holds(_ warren: WarrenServerProcess, _ path: String) async throws -> Bool {
        try await HTTP.get(warren.url + "/" + path, headers: [("Disable-Module-Fetch", "true")]).status == 200
    }

    @Test func aDownstreamMirrorsWhatAppearsUpstreamAndMatches() async throws {
        let source = try await WarrenServerProcess.start(arguments: ["--upstream", "file://" + fixture.root])
        defer { source.stop() }
        for path in ["github.com/kr/text/@v/v0.2.0.zip", "gopkg.in/yaml.v3/@v/v3.0.1.zip"] {
            #expect(try await HTTP.get(source.url + "/" + path).status == 200)
        }
        let data = ScratchDirectory()
        let arguments = ["--upstream", source.url, "--follow", source.url + "/index github.com/*", "--follow-interval", "1s"]
        let downstream = try await WarrenServerProcess.start(arguments: arguments, dataDir: data.path)
        defer { downstream.stop() }
        let kr = "github.com/kr/text/@v/v0.2.0.zip"
        var deadline = ContinuousClock.now + .seconds(30)
        while try await !Self.holds(downstream, kr), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
        #expect(try await Self.holds(downstream, kr), "the followed version never arrived")
        #expect(try await !Self.holds(downstream, "gopkg.in/yaml.v3/@v/v3.0.1.zip"), "a version outside the patterns was mirrored")

        // A version the source caches later arrives too.
        let toml = "github.com/!burnt!sushi/toml/@v/v1.2.1.zip"
        #expect(try await HTTP.get(source.url + "/" + toml).status == 200)
        deadline = ContinuousClock.now + .seconds(30)
        while try await !Self.holds(downstream, toml), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
        let served = try await HTTP.get(downstream.url + "/" + toml, headers: [("Disable-Module-Fetch", "true")])
        let expected = try Data(contentsOf: URL(fileURLWithPath: fixture.root + "/" + toml))
        #expect(served.status == 200 && Data(served.body) == expected)
        // Where it stopped is kept in storage (shared by replicas), for the next start.
        let cursor = try String(contentsOfFile: data.path + "/modules/state/follow.since", encoding: .utf8)
        #expect(cursor.hasPrefix("20"), "\(cursor)")
        // Started again with kr/text's zip gone from its store: it goes on from the cursor,
        // so a version that appears later arrives and kr/text (earlier in the feed) is not
        // mirrored again, as it would be if the feed were read from the start.
        downstream.stop()
        try FileManager.default.removeItem(atPath: data.path + "/modules/" + kr)
        let restarted = try await WarrenServerProcess.start(arguments: arguments, dataDir: data.path)
        defer { restarted.stop() }
        let cmp = "github.com/google/go-cmp/@v/v0.5.9.zip"
        #expect(try await HTTP.get(source.url + "/" + cmp).status == 200)
        deadline = ContinuousClock.now + .seconds(30)
        while try await !Self.holds(restarted, cmp), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
        #expect(try await Self.holds(restarted, cmp), "the version that appeared after the restart never arrived")
        #expect(try await !Self.holds(restarted, kr), "the feed was read again from the start")
    }
}
