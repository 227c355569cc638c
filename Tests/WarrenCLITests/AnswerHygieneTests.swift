import Foundation
import Testing

/// What clients, scrapers and log readers may see: upstreams by a redacted name only, no
/// local paths, no upstream text relayed unsanitised, and a client that gives up counted
/// as such (499), not as a server fault.
@Suite struct AnswerHygieneTests {
    let fixture = ModuleFixture.shared
    static let secrets = ["alice", "PASSWORD", "SECRETTOKEN"]

    @Test func upstreamCredentialsNeverReachAnswersMetricsOrLogs() async throws {
        let upstream = FaultyUpstream(root: fixture.root)
        try await upstream.start()
        defer { upstream.stop() }
        let failing = "github.com/kr/text/@v/list"
        // An upstream that echoes the credentials back in its error text.
        upstream.setFault(failing, .status(500, "token SECRETTOKEN of alice:PASSWORD rejected\nsecond line"))
        let base = "http://alice:PASSWORD@127.0.0.1:\(upstream.port)/?token=SECRETTOKEN"
        let warren = try await WarrenServerProcess.start(arguments: ["--upstream", base, "--retries", "0"])
        defer { warren.stop() }

        let failed = try await HTTP.get(warren.url + "/" + failing)
        #expect(failed.status == 502)
        #expect(!failed.text.contains("second line"), "more than one line relayed: \(failed.text)")
        #expect(failed.text.contains("xxxxx"), "\(failed.text)")
        // The query stays on the URL after the path, as the go command joins them.
        let info = "/" + ModuleFixture.artifactPath("github.com/kr/text", "v0.2.0", "info")
        #expect(try await HTTP.get(warren.url + info).status == 200)
        #expect(upstream.count(String(info.dropFirst())) == 1)

        let metrics = try await HTTP.get(warren.url + "/metrics").text
        // Request lines are written in batches: wait until this test's are out.
        #expect(await eventuallyAsync(timeout: 10) { warren.stderr.contains("path=/github.com/kr/text/@v/v0.2.0.info") })
        #expect(metrics.contains("upstream=\"http://127.0.0.1:\(upstream.port)/\""), "upstream label: \(metrics.split(separator: "\n").filter { $0.contains("upstream=") }.prefix(2))")
        for secret in Self.secrets {
            #expect(!failed.text.contains(secret), "\(secret) in a 502 body: \(failed.text)")
            #expect(!metrics.contains(secret), "\(secret) in /metrics")
            #expect(!warren.stderr.contains(secret), "\(secret) in the log")
        }
    }

    @Test func fileUpstreamsAreNotNamedByTheirPath() async throws {
        let warren = try await WarrenServerProcess.start(arguments: ["--upstream", "file://" + fixture.root])
        defer { warren.stop() }
        #expect(try await HTTP.get(warren.url + "/example.com/missing/@v/list").status == 404)
        #expect(try await HTTP.get(warren.url + "/" + ModuleFixture.artifactPath("github.com/kr/text", "v0.2.0", "mod")).status == 200)
        let metrics = try await HTTP.get(warren.url + "/metrics").text
        #expect(metrics.contains("upstream=\"file://…/"), "\(metrics.split(separator: "\n").filter { $0.contains("upstream=") }.prefix(2))")
        #expect(!metrics.contains(fixture.root))
        #expect(await eventuallyAsync(timeout: 10) { warren.stderr.contains("path=/example.com/missing/@v/list") })
        #expect(!warren.stderr.contains(fixture.root), "the fixture's path is in the log")
    }

    @Test func aClientThatAbortsAColdZipIsCounted499() async throws {
        let upstream = FaultyUpstream(root: fixture.root)
        try await upstream.start()
        defer { upstream.stop() }
        let zip = ModuleFixture.artifactPath("golang.org/x/text", "v0.7.0", "zip")
        upstream.setFault(zip, .slowBody(afterBytes: 2 << 20, pause: 2))
        let warren = try await WarrenServerProcess.start(arguments: ["--upstream", upstream.url, "--retries", "0"])
        defer { warren.stop() }
        try await offThread {
            let client = try TestSocket(port: warren.port)
            try client.send("GET /\(zip) HTTP/1.1\r\nHost: t\r\n\r\n")
            var received = 0
            while received < 256 << 10, case .data(let d) = client.receive(timeout: 10) { received += d.count }
            #expect(received >= 256 << 10, "the zip did not start streaming")
        }  // the client closes here, mid-zip
        func count(_ status: String) async throws -> Double {
            let text = try await HTTP.get(warren.url + "/metrics").text
            return text.split(separator: "\n")
                .filter { $0.hasPrefix("warren_http_requests_total{") && $0.contains("endpoint=\"zip\"") && $0.contains("status=\"\(status)\"") }
                .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0, +)
        }
        var aborted = 0.0
        let deadline = Date().addingTimeInterval(15)
        while aborted == 0, Date() < deadline {
            aborted = try await count("499")
            if aborted == 0 { try await Task.sleep(for: .milliseconds(100)) }  // polling the metric
        }
        #expect(aborted == 1)
        #expect(try await count("502") == 0)
        #expect(await eventuallyAsync(timeout: 10) { warren.stderr.contains("status=499") }, "no 499 line in the log")
        // The download went on for the cache: the next client gets the stored zip.
        let again = try await HTTP.get(warren.url + "/" + zip)
        #expect(again.status == 200)
        #expect(again.body.count == fixture.module("golang.org/x/text", "v0.7.0")?.zipSize)
    }
}

/// The request log: one line per request in the same shape as every other log line,
/// text or JSON, written in batches off the event loops.
@Suite struct AccessLogTests {
    @Test func requestLinesInTextAndJSON() async throws {
        for format in ["text", "json"] {
            let (upstream, warren) = try await startProxyOnFixture(["--log-format", format])
            defer { warren.stop(); upstream.stop() }
            let info = "/" + ModuleFixture.artifactPath("github.com/kr/text", "v0.2.0", "info")
            for _ in 0..<3 { #expect(try await HTTP.get(warren.url + info).status == 200) }  // miss, then the fast path
            #expect(try await HTTP.get(warren.url + "/healthz").status == 200)
            let wanted = format == "text" ? "path=/healthz" : "\"path\":\"/healthz\""
            #expect(await eventuallyAsync(timeout: 10) { warren.stderr.contains(wanted) }, "\(warren.stderr)")
            let lines = warren.stderr.split(separator: "\n").filter { $0.contains(info) }
            #expect(lines.count == 3, "\(lines)")
            for line in lines {
                if format == "text" {
                    #expect(line.hasSuffix("path=\(info) status=200"), "\(line)")
                    #expect(line.contains(" INFO request bytes=") && line.contains(" method=GET ms="), "\(line)")
                } else {
                    let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String]
                    #expect(object?["path"] == info && object?["status"] == "200" && object?["msg"] == "request", "\(line)")
                    #expect(object?["level"] == "info" && object?["time"]?.hasSuffix("Z") == true)
                }
            }
            #expect(lines.last?.contains("hit") == true)
        }
    }
}
