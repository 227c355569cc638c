import Foundation
import Testing
@testable import WarrenClientTools

@Suite("Bench: inputs, statistics, consistency")
struct BenchModelTests {
    @Test func goSumLinesBecomeItemsWithHashes() throws {
        let dir = FileManager.default.temporaryDirectory.path + "/warren-bench-unit-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data("""
        github.com/kr/text v0.2.0 h1:zip=
        github.com/kr/text v0.2.0/go.mod h1:mod=
        github.com/creack/pty v1.1.9/go.mod h1:pty=

        """.utf8).write(to: URL(fileURLWithPath: dir + "/go.sum"))
        let items = try BenchInput.items(from: [dir + "/go.sum", "github.com/kr/text@v0.2.0"])
        #expect(items.count == 2)
        #expect(items[0] == BenchItem(path: "github.com/kr/text", version: "v0.2.0", wantZip: true, goSumZipHash: "h1:zip=", goSumModHash: "h1:mod="))
        #expect(items[1].wantZip == false && items[1].goSumModHash == "h1:pty=")
        #expect(throws: BenchInput.Failure.self) { try BenchInput.items(from: ["github.com/kr/text"]) }
        #expect(throws: BenchInput.Failure.self) { try BenchInput.items(from: ["github.com/kr/text@master"]) }
    }

    @Test func percentilesAreNearestRank() throws {
        let s = try #require(LatencyStats.of((1...100).map(Double.init)))
        #expect(s.p50 == 50 && s.p90 == 90 && s.p99 == 99 && s.max == 100 && s.mean == 50.5)
        #expect(LatencyStats.of([]) == nil)
    }

    @Test func theOddProxyOutIsNamed() {
        let item = BenchItem(path: "example.com/m", version: "v1.0.0", wantZip: true, goSumZipHash: "h1:good")
        let samples = (0..<3).map { p in
            BenchSample(proxy: p, item: 0, endpoint: .zip, repetition: 0, status: 200, totalMs: 1, bytes: 1, fingerprint: p == 2 ? "h1:evil" : "h1:good")
        }
        let found = BenchResult.consistency(names: ["a", "b", "c"], items: [item], samples: samples, references: ChecksumReferences())
        #expect(found.map(\.kind) == ["proxies-disagree", "go.sum"])
        #expect(found[0].summary.contains("c differs from the other proxies"))
        #expect(found[1].summary.contains("from c does not match go.sum"))
    }

    @Test func htmlIsSelfContained() {
        let result = BenchResult(proxies: ["http://a", "http://b"], items: [], repetitions: 1, concurrency: 1, startedAt: "now", wallSeconds: 1,
                                 inconsistencies: [], stats: [])
        let html = BenchRenderers.html(result)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(!html.contains("<script") && !html.contains("src=") && !html.contains("href="))
    }
}
