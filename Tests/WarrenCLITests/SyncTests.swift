import Foundation
import TestServers
import Testing

/// Active sync (`--sync-top`): a release that appears upstream after a module became
/// popular is cached by Warren on its own — list, `@latest` and the new version's zip —
/// and then served with the upstream gone, though the list TTL is an hour and no client
/// asked for the new version.
@Suite struct SyncTests {
    static func release(_ tree: String, _ version: String, greeting: String) throws {
        let source = tree + "/../src-\(version)"
        try PublishTests.writeModule(source, module: "example.com/pop", greeting: greeting)
        let dir = tree + "/example.com/pop/@v"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let zipped = try WarrenBinary.run(["mod", "zip", source, "example.com/pop@\(version)", dir + "/\(version).zip"])
        #expect(zipped.status == 0, "\(zipped.stderr)")
        try? FileManager.default.removeItem(atPath: dir + "/\(version).mod")
        try FileManager.default.copyItem(atPath: source + "/go.mod", toPath: dir + "/\(version).mod")
        let info = #"{"Version":"\#(version)","Time":"2026-12-01T00:00:00Z"}"#
        try Data(info.utf8).write(to: URL(fileURLWithPath: dir + "/\(version).info"))
        let listed = (try? String(contentsOfFile: dir + "/list", encoding: .utf8)) ?? ""
        try Data((listed + version + "\n").utf8).write(to: URL(fileURLWithPath: dir + "/list"), options: .atomic)
        try Data(info.utf8).write(to: URL(fileURLWithPath: tree + "/example.com/pop/@latest"), options: .atomic)
    }

    @Test func aNewReleaseOfAPopularModuleIsCachedBeforeAnyoneAsks() async throws {
        let scratch = ScratchDirectory()
        let tree = scratch.path + "/tree"
        try await offThread { try Self.release(tree, "v1.0.0", greeting: "one") }
        let upstream = FaultyUpstream(root: tree)
        try await upstream.start()
        defer { upstream.stop() }
        let warren = try await WarrenServerProcess.start(arguments: [
            "--upstream", upstream.url, "--list-ttl", "1h", "--sync-top", "5", "--sync-interval", "1s", "--retries", "0",
        ])
        defer { warren.stop() }
        #expect(try await HTTP.get(warren.url + "/example.com/pop/@latest").text.contains("v1.0.0"))
        #expect(try await HTTP.get(warren.url + "/example.com/pop/@v/v1.0.0.zip").status == 200)

        // A release appears upstream; nobody asks Warren for it.
        try await offThread { try Self.release(tree, "v1.1.0", greeting: "two") }
        let deadline = ContinuousClock.now + .seconds(60)
        while upstream.count("example.com/pop/@v/v1.1.0.zip") == 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(upstream.count("example.com/pop/@v/v1.1.0.zip") == 1, "sync never fetched the new release")

        // With the upstream gone, Warren answers the new release from its cache.
        upstream.setDefaultFault(.status(502, "gone"))
        let latest = try await HTTP.get(warren.url + "/example.com/pop/@latest")
        #expect(latest.status == 200 && latest.text.contains("v1.1.0"), "\(latest.status) \(latest.text)")
        #expect(try await HTTP.get(warren.url + "/example.com/pop/@v/list").text.contains("v1.1.0"))
        let zip = try await HTTP.get(warren.url + "/example.com/pop/@v/v1.1.0.zip")
        let expected = try Data(contentsOf: URL(fileURLWithPath: tree + "/example.com/pop/@v/v1.1.0.zip"))
        #expect(zip.status == 200 && Data(zip.body) == expected)
    }
}
