import Foundation
import Testing

/// Malformed and hostile requests: a 4xx with one line of plain text, and nothing read or
/// written outside the data directory.
@Suite struct BadRequestTests {
    static let cases: [(String, Int)] = [
        ("/github.com/kr/text/@v/..%2f..%2f..%2fetc%2fpasswd.info", 400),
        ("/github.com/kr/text/@v/%2e%2e.info", 400),
        ("/github.com/kr/../../etc/@v/list", 400),
        ("/../../etc/passwd/@v/list", 400),
        ("/github.com%2fkr%2ftext/@v/list", 400),
        ("/github.com/kr/text/@v/v1.0.0%00.info", 400),
        ("/github.com/kr/text/@v/v1.0.0.zip%00", 400),
        ("/GitHub.com/kr/text/@v/list", 400),
        ("/github.com/Kr/text/@v/list", 400),
        ("/github.com/!/text/@v/list", 400),
        ("/github.com/!K/text/@v/list", 400),
        ("/github.com/kr/text/@v/v1.0.zip", 400),
        ("/github.com/kr/text/@v/not-a-version.mod", 400),
        ("/github.com/kr/text/@v/v2.0.0.zip", 400),
        ("/github.com/kr/text/@v/v1.0.0.tar", 400),
        ("/github.com/kr/text/@v/V1.0.0.info", 400),
        ("/github.com/kr/text/@v/%zz.info", 400),
        ("/github.com/kr/text/@v/%ff%fe.info", 400),
        ("//etc/passwd/@v/list", 400),
        ("/nodot/@v/list", 400),
        ("/github.com/kr/text/@v/" + String(repeating: "a", count: 2000) + ".info", 400),
        ("/github.com/kr/text", 404),
        ("/", 404),
        ("/sumdb/sum.golang.org/supported", 404),
        ("/sumdb/sum.golang.org/lookup/github.com/kr/text", 400),
        ("/sumdb/sum.golang.org/lookup/github.com/Kr/text@v1.0.0", 400),
        ("/sumdb/sum.golang.org/lookup/..%2f..%2fetc@v1.0.0", 400),
        ("/sumdb/sum.golang.org/tile/8/0/../../../etc/passwd", 404),
        ("/sumdb/sum.golang.org/tile/8/0/001.p/999", 404),
        ("/sumdb/../etc/passwd", 404),
        ("/sumdb/sum.golang.org/%zz", 400),
    ]

    @Test func badRequestsAreRefusedCleanly() async throws {
        let upstream = FaultyUpstream(root: ModuleFixture.shared.root)
        try await upstream.start()
        defer { upstream.stop() }
        let parent = FileManager.default.temporaryDirectory.path + "/warren-bad-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let warren = try await WarrenServerProcess.start(arguments: ["--upstream", upstream.url], dataDir: parent + "/data")
        defer { warren.stop() }

        for (path, status) in Self.cases {
            let r = try await RawHTTP.get(port: warren.port, rawPath: path)
            #expect(r.status == status, "\(path): got \(r.status) \(r.body)")
            #expect(r.headers["content-type"] == "text/plain; charset=utf-8", "\(path)")
            #expect(r.body.hasSuffix("\n") && !r.body.dropLast().contains("\n"), "\(path): not one line: \(r.body)")
            #expect(!r.body.contains(parent), "\(path): local path leaked")
        }
        #expect(upstream.count("github.com/kr/text/@v/%zz.info") == 0)
        #expect(upstream.totalCount == 0, "a malformed request reached the upstream")
        // Nothing was asked of the upstream, and nothing exists beside the data directory.
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent) == ["data"])
        // The metadata index's files are made at start; nothing else may appear.
        let stored = (FileManager.default.enumerator(atPath: parent + "/data")?.allObjects as? [String] ?? [])
            .filter { !$0.hasPrefix("index.sqlite") }
        #expect(stored == ["modules"], "bad requests stored something: \(stored)")
        #expect(warren.process.isRunning)
    }
}
