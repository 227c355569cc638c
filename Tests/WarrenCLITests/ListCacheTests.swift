import Foundation
import Testing

@Suite struct ListCacheTests {
    /// Fresh within the TTL, stale-while-revalidate after it, last good answer when every
    /// upstream fails.
    @Test func ttlRefreshAndLastGoodAnswer() async throws {
        let root = FileManager.default.temporaryDirectory.path + "/warren-lists-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let listFile = root + "/example.com/lib/@v/list"
        try FileManager.default.createDirectory(atPath: root + "/example.com/lib/@v", withIntermediateDirectories: true)
        try "v1.0.0\n".write(toFile: listFile, atomically: true, encoding: .utf8)
        let upstream = FaultyUpstream(root: root)
        try await upstream.start()
        defer { upstream.stop() }
        let ttl = 4.0
        let warren = try await WarrenServerProcess.start(arguments: ["--upstream", upstream.url, "--list-ttl", "\(Int(ttl))s", "--retries", "0"])
        defer { warren.stop() }
        let url = warren.url + "/example.com/lib/@v/list"
        let path = "example.com/lib/@v/list"

        #expect(try await HTTP.get(url).text == "v1.0.0\n")
        let fetchedAt = Date()
        try "v1.0.0\nv1.1.0\n".write(toFile: listFile, atomically: true, encoding: .utf8)
        // Within the TTL: the cached answer, no upstream request.
        let cached = try await HTTP.get(url)
        #expect(Date().timeIntervalSince(fetchedAt) < ttl - 0.5, "the machine is too slow for a \(ttl) s TTL: nothing below is proved")
        #expect(cached.text == "v1.0.0\n")
        #expect(cached.headers.first(name: "x-warren-cache") == "hit")
        #expect(upstream.count(path) == 1)
        // Waiting for the TTL to pass is the event itself.
        try await Task.sleep(for: .seconds(ttl + 0.3))
        // Past the TTL: the stale answer at once, a refresh behind it.
        let before = upstream.count(path)
        let stale = try await HTTP.get(url)
        #expect(stale.text == "v1.0.0\n")
        #expect(stale.headers.first(name: "x-warren-cache") == "stale")
        try await waitFor { upstream.count(path) == before + 1 }
        // The refreshed answer, once it is stored.
        var refreshed = ""
        for _ in 0..<100 where refreshed != "v1.0.0\nv1.1.0\n" {
            refreshed = try await HTTP.get(url).text
        }
        #expect(refreshed == "v1.0.0\nv1.1.0\n")

        // Every upstream failing: the last good answer keeps being served.
        upstream.setFault(path, .status(500, "down"))
        try await Task.sleep(for: .seconds(ttl + 0.3))
        func failedRefreshes() -> Int { warren.stderr.components(separatedBy: "keeping the last good answer").count - 1 }
        for _ in 0..<3 {
            let failed = failedRefreshes()
            let r = try await HTTP.get(url)
            #expect(r.status == 200)
            #expect(r.text == "v1.0.0\nv1.1.0\n")
            // A stale answer starts a refresh (or joins the one running), which fails and
            // is logged: wait for that, so the next request meets no refresh in flight.
            try await waitFor { failedRefreshes() > failed }
        }
        #expect(upstream.count(path) >= 3)
    }

    func waitFor(_ condition: () -> Bool) async throws {
        for _ in 0..<50 where !condition() { try await Task.sleep(for: .milliseconds(100)) }
        #expect(condition())
    }
}
