import Foundation
import Testing

@Suite struct SingleFlightTests {
    /// 200 concurrent cold requests for one zip: one upstream fetch, 200 identical answers.
    @Test func twoHundredColdRequestsOneFetch() async throws {
        let fixture = ModuleFixture.shared
        let upstream = FaultyUpstream(root: fixture.root)
        try await upstream.start()
        defer { upstream.stop() }
        let zipPath = "golang.org/x/text/@v/v0.7.0.zip"
        let text = try #require(fixture.module("golang.org/x/text", "v0.7.0"))
        // Slow the body so that every request arrives while the download is in flight.
        upstream.setFault(zipPath, .slowBody(afterBytes: 1 << 20, pause: 1.5))
        let warren = try WarrenServerProcess(arguments: ["--upstream", upstream.url])
        defer { warren.stop() }
        // Warm .mod first: the zip fetch needs it, and it is not what is being counted.
        #expect(try await HTTP.get(warren.url + "/golang.org/x/text/@v/v0.7.0.mod").status == 200)

        let results = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for _ in 0..<200 {
                group.addTask {
                    let r = try await HTTP.get(warren.url + "/" + zipPath, timeout: 120)
                    return (r.status, r.body.count)
                }
            }
            var all: [(Int, Int)] = []
            for try await r in group { all.append(r) }
            return all
        }
        #expect(results.count == 200)
        #expect(results.allSatisfy { $0.0 == 200 && $0.1 == text.zipSize })
        #expect(upstream.count(zipPath) == 1)
    }
}
