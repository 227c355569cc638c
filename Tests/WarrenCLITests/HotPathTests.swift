import Foundation
import GoModule
import Testing

/// The two shortcuts for cached artifacts: small immutable answers written straight from
/// the channel pipeline, and stored zips sent with sendfile. Both must be
/// indistinguishable from the ordinary path, except for speed.
@Suite struct HotPathTests {
    let fixture = ModuleFixture.shared

    func start() async throws -> (FaultyUpstream, WarrenServerProcess) {
        try await startProxyOnFixture()
    }

    static func hotAnswers(_ warren: WarrenServerProcess) async throws -> Int {
        let text = try await HTTP.get(warren.url + "/metrics").text
        let line = text.split(separator: "\n").first { $0.hasPrefix("warren_hot_path_answers_total") }
        return line.flatMap { $0.split(separator: " ").last }.flatMap { Int(Double($0) ?? -1) } ?? 0
    }

    /// Every header but Date, for comparing two answers.
    static func comparable(_ e: HTTPExchange) -> [String: String] {
        var map: [String: String] = [:]
        for h in e.headers where h.name.lowercased() != "date" { map[h.name.lowercased()] = h.value }
        return map
    }

    @Test func hotAnswersEqualOrdinaryOnes() async throws {
        let (upstream, warren) = try await start()
        defer { warren.stop(); upstream.stop() }
        let base = warren.url + "/github.com/kr/text/@v/v0.2.0"
        for suffix in [".info", ".mod", ".zip"] {
            let first = try await HTTP.get(base + suffix)
            #expect(first.status == 200)
            #expect(first.headers.first(name: "x-warren-cache") == "miss")
            // A zip that was streamed from upstream is remembered from its first stored answer.
            _ = try await HTTP.get(base + suffix)
            let before = try await Self.hotAnswers(warren)
            let hot = try await HTTP.get(base + suffix)
            let hotHead = try await HTTP.get(base + suffix, method: .HEAD)
            #expect(try await Self.hotAnswers(warren) == before + 2, "\(suffix) was not answered by the hot path")
            // A request the hot path must not take (it names a Connection option) is
            // answered by the ordinary path, from the same cache.
            let ordinary = try await HTTP.get(base + suffix, headers: [("Connection", "keep-alive")])
            #expect(try await Self.hotAnswers(warren) == before + 2)

            #expect(hot.status == 200)
            #expect(hot.body == first.body)
            #expect(ordinary.body == first.body)
            #expect(Self.comparable(hot) == Self.comparable(ordinary), "\(suffix)")
            #expect(hot.headers.first(name: "date") != nil)
            #expect(hot.headers.first(name: "x-warren-cache") == "hit")
            #expect(hotHead.body.isEmpty)
            #expect(hotHead.headers.first(name: "content-length") == String(first.body.count))
        }
        // Conditional and range requests still get their special answers.
        let etag = try #require(try await HTTP.get(base + ".info").headers.first(name: "etag"))
        #expect(try await HTTP.get(base + ".info", headers: [("If-None-Match", etag)]).status == 304)
        let part = try await HTTP.get(base + ".zip", headers: [("Range", "bytes=0-3")])
        #expect(part.status == 206)
        #expect(part.body == [0x50, 0x4B, 0x03, 0x04])
    }

    /// A pipelined request for a hot artifact must not overtake an earlier request that
    /// is still waiting for its upstream.
    @Test func pipelinedAnswersKeepRequestOrder() async throws {
        let (upstream, warren) = try await start()
        defer { warren.stop(); upstream.stop() }
        let hot = "/github.com/kr/text/@v/v0.2.0.info"
        let slow = "/gopkg.in/yaml.v3/@v/v3.0.1.info"
        _ = try await HTTP.get(warren.url + hot)
        _ = try await HTTP.get(warren.url + hot)
        upstream.setFault(slow, .delay(1.0))
        let before = try await Self.hotAnswers(warren)

        let replies = try await RawHTTP.pipelined(port: warren.port, paths: [slow, hot, hot, "/healthz"])
        #expect(replies.map(\.status) == [200, 200, 200, 200])
        #expect(replies.count == 4)
        if replies.count == 4 {
            #expect(replies[0].body.contains("\"Version\":\"v3.0.1\""))
            #expect(replies[1].body.contains("\"Version\":\"v0.2.0\""))
            #expect(replies[2].body.contains("\"Version\":\"v0.2.0\""))
            #expect(replies[3].body == "ok\n")
        }
        // The second hot request comes after the slow one has ended: the hot path may take it.
        #expect(try await Self.hotAnswers(warren) <= before + 1)
    }

    /// Stored zips too large for memory go out with sendfile: whole, in ranges, and HEAD.
    @Test func largeStoredZipsAreSentWhole() async throws {
        let (upstream, warren) = try await start()
        defer { warren.stop(); upstream.stop() }
        let text = try #require(fixture.module("golang.org/x/text", "v0.7.0"))
        #expect(text.zipSize > 512 * 1024, "x/text must be larger than the memory-cache zip limit")
        let url = warren.url + "/golang.org/x/text/@v/v0.7.0.zip"
        let cold = try await HTTP.get(url)
        let stored = try await HTTP.get(url)
        #expect(stored.headers.first(name: "x-warren-cache") == "hit")
        #expect(cold.body.count == text.zipSize)
        #expect(stored.body == cold.body)
        // The cold zip was hashed while it streamed, not read again.
        let metrics = try await HTTP.get(warren.url + "/metrics").text
        #expect(metrics.contains("warren_zip_verifications_total{mode=\"streamed\"} 1"))
        #expect(!metrics.contains("mode=\"reread\""))

        let dir = FileManager.default.temporaryDirectory.path + "/warren-hot-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data(stored.body).write(to: URL(fileURLWithPath: dir + "/x.zip"))
        #expect(try ModuleZipChecker.verify(module: "golang.org/x/text", version: "v0.7.0", zipPath: dir + "/x.zip").hash == text.zipHash)

        // The stored answer was remembered: the next one comes from the hot path, by sendfile.
        let before = try await Self.hotAnswers(warren)
        let hot = try await HTTP.get(url)
        #expect(try await Self.hotAnswers(warren) == before + 1)
        #expect(hot.body == cold.body)
        #expect(Self.comparable(hot) == Self.comparable(stored))

        let middle = try await HTTP.get(url, headers: [("Range", "bytes=1000000-1999999")])
        #expect(middle.status == 206)
        #expect(middle.body == Array(stored.body[1_000_000...1_999_999]))
        let head = try await HTTP.get(url, method: .HEAD)
        #expect(head.body.isEmpty)
        #expect(head.headers.first(name: "content-length") == String(text.zipSize))

        // A stored file that has gone (removed by hand) is not answered from the hot path:
        // the ordinary path notices and fetches the zip again.
        let stored1 = warren.dataDir + "/modules/golang.org/x/text/@v/v0.7.0.zip"
        #expect(FileManager.default.fileExists(atPath: stored1))
        try FileManager.default.removeItem(atPath: stored1)
        try? FileManager.default.removeItem(atPath: stored1 + ".meta")
        let afterLoss = try await Self.hotAnswers(warren)
        let refetched = try await HTTP.get(url)
        #expect(refetched.status == 200)
        #expect(refetched.body == cold.body)
        #expect(try await Self.hotAnswers(warren) == afterLoss)
    }
}
