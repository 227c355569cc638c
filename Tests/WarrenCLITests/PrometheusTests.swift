import Foundation
import TestServers
import Testing

/// The shipped monitoring files against a real Prometheus (Debian's): promtool checks and
/// unit-tests the alert rules; Prometheus scrapes a running Warren under a short load
/// with the rules loaded; and every panel of the Grafana dashboard is run through
/// Prometheus's HTTP API, where each must parse and return data.
@Suite struct PrometheusTests {
    static let deploy = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("deploy").path

    struct Query: Decodable {
        struct Data: Decodable {
            struct Series: Decodable {}
            var result: [Series]
        }
        var status: String
        var data: Data?
        var error: String?
    }

    static func query(_ prometheus: String, _ expr: String) async throws -> Query {
        // `+` must be escaped too: a query string's `+` reads as a space.
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "+&=")
        let encoded = try #require(expr.addingPercentEncoding(withAllowedCharacters: allowed))
        let answer = try await HTTP.get(prometheus + "/api/v1/query?query=" + encoded)
        // While it starts, Prometheus answers 503 in plain text: not an answer yet.
        guard let decoded = try? JSONDecoder().decode(Query.self, from: Foundation.Data(answer.body)) else {
            return Query(status: "HTTP \(answer.status)", data: nil, error: String(answer.text.prefix(200)))
        }
        return decoded
    }

    /// Polls `expr` until it returns data (or `timeout` seconds pass).
    static func eventually(_ prometheus: String, _ expr: String, timeout: Int = 45) async throws -> Query {
        let deadline = ContinuousClock.now + .seconds(timeout)
        let unreachable = Query(status: "unreachable", data: nil, error: "Prometheus does not answer yet")
        var last = (try? await query(prometheus, expr)) ?? unreachable
        while ContinuousClock.now < deadline, last.status != "success" || (last.data?.result.isEmpty ?? true) {
            try await Task.sleep(for: .milliseconds(250))
            last = (try? await query(prometheus, expr)) ?? unreachable
        }
        return last
    }

    @Test func alertRulesPassPromtoolAndEveryDashboardPanelReturnsData() async throws {
        let rules = Self.deploy + "/prometheus"
        let checked = try await ExternalCommand.run("/usr/bin/promtool", ["check", "rules", "alerts.yml"], environment: ["PATH": "/usr/bin:/bin"], in: rules)
        #expect(checked.status == 0 && checked.stdout.contains("SUCCESS: 8 rules found"), "\(checked.stdout) \(checked.stderr)")
        let unit = try await ExternalCommand.run("/usr/bin/promtool", ["test", "rules", "alerts_test.yml"], environment: ["PATH": "/usr/bin:/bin"], in: rules)
        #expect(unit.status == 0 && unit.stdout.contains("SUCCESS"), "\(unit.stdout) \(unit.stderr)")

        let fixture = ModuleFixture.shared
        let db = try SumDBServer(root: fixture.root)
        defer { db.stop() }
        let upstream = FaultyUpstream(root: fixture.root)
        try await upstream.start()
        defer { upstream.stop() }
        let warren = try await WarrenServerProcess.start(arguments: [
            "--upstream", upstream.url, "--sumdb", db.verifierKey + " " + db.url, "--cache-max-size", "10GiB", "--cache-min-age", "0s",
        ])
        defer { _ = warren.stop() }

        let scratch = ScratchDirectory()
        let port = try RadosGateway.freePort()
        let config = """
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            rule_files:
              - \(rules)/alerts.yml
            scrape_configs:
              - job_name: warren
                static_configs:
                  - targets: ["127.0.0.1:\(warren.port)"]
            """
        try Data(config.utf8).write(to: URL(fileURLWithPath: scratch.path + "/prometheus.yml"))
        let prometheus = try TestProcess("/usr/bin/prometheus", [
            "--config.file=" + scratch.path + "/prometheus.yml", "--storage.tsdb.path=" + scratch.path + "/tsdb",
            "--web.listen-address=127.0.0.1:\(port)", "--log.level=warn",
        ])
        defer { _ = prometheus.terminate() }
        let base = "http://127.0.0.1:\(port)"
        let up = try await Self.eventually(base, #"up{job="warren"} == 1"#)
        #expect(up.data?.result.count == 1, "Prometheus never scraped Warren: \(prometheus.stderr.text.suffix(2000))")

        // A short load once scraping runs: cold modules (upstream, checksum database),
        // then cached answers, some from the fast path. Counters appear with their first
        // increase; a rate needs a second, so cold fetches come in two rounds.
        let go = GoClient(proxy: warren.url)
        let first = try await go.run(["mod", "download", "github.com/kr/text@v0.2.0"])
        #expect(first.status == 0, "\(first.stderr)")
        _ = try await Self.eventually(base, "warren_upstream_request_duration_seconds_bucket")
        let cold = try await go.run(["mod", "download", "gopkg.in/yaml.v3@v3.0.1", "github.com/google/go-cmp@v0.5.9", "github.com/BurntSushi/toml@v1.2.1"])
        #expect(cold.status == 0, "\(cold.stderr)")
        for _ in 0..<3 {
            for path in ["github.com/kr/text/@v/v0.2.0.zip", "gopkg.in/yaml.v3/@v/v3.0.1.mod", "github.com/kr/text/@v/list"] {
                _ = try await HTTP.get(warren.url + "/" + path)
            }
        }
        // Counted downloads reach the index (and the top-ten gauge) within ten seconds.
        #expect(try await Self.eventually(base, "warren_module_downloads").data?.result.isEmpty == false)
        #expect(try await Self.eventually(base, "sum(rate(warren_upstream_requests_total[1m])) > 0").data?.result.isEmpty == false)

        struct Dashboard: Decodable {
            struct Panel: Decodable {
                struct Target: Decodable { var expr: String }
                var title: String
                var targets: [Target]
            }
            var panels: [Panel]
        }
        let dashboard = try JSONDecoder().decode(Dashboard.self, from: Data(contentsOf: URL(fileURLWithPath: Self.deploy + "/grafana/warren.json")))
        #expect(dashboard.panels.count >= 12)
        for panel in dashboard.panels {
            for target in panel.targets {
                let answer = try await Self.eventually(base, target.expr, timeout: 20)
                #expect(answer.status == "success" && answer.data?.result.isEmpty == false,
                        "\(panel.title): \(target.expr) → \(answer.status) \(answer.error ?? "no data")")
            }
        }
        // Every metric Warren exposes follows Prometheus's conventions: counters end in
        // _total, durations are histograms in seconds, sizes are in bytes, and no counter or
        // histogram carries a label per module (popularity is the top-ten gauge only).
        let exposition = try await HTTP.get(warren.url + "/metrics").text
        let review = Self.reviewMetrics(exposition)
        #expect(review.problems.isEmpty, "\(review.problems)")
        #expect(review.families >= 15 && review.series < 400, "\(review.families) families, \(review.series) series")

        // The rules are loaded, and none fires on a healthy Warren.
        let loaded = try await HTTP.get(base + "/api/v1/rules").text
        #expect(loaded.contains("WarrenChecksumMismatch") && loaded.contains("WarrenCacheNearQuota"), "\(loaded.prefix(500))")
        let firing = try await Self.query(base, #"ALERTS{alertstate="firing"}"#)
        #expect(firing.data?.result.isEmpty == true, "alerts firing on a healthy Warren")
    }

    /// The naming review of an exposition: each problem names the metric.
    static func reviewMetrics(_ text: String) -> (problems: [String], families: Int, series: Int) {
        var types: [String: String] = [:]
        var problems: [String] = []
        var series = 0
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                if parts.count == 4 { types[String(parts[2])] = String(parts[3]) }
            } else if !line.hasPrefix("#") {
                series += 1
                let name = String(line.prefix { $0 != "{" && $0 != " " })
                if line.contains("module=\""), !name.hasPrefix("warren_module_downloads") {
                    problems.append("\(name) has a label per module")
                }
            }
        }
        for (name, type) in types {
            if !name.hasPrefix("warren_") { continue }
            switch type {
            case "counter" where !name.hasSuffix("_total"):
                problems.append("counter \(name) does not end in _total")
            case "histogram" where !(name.hasSuffix("_seconds") || name.hasSuffix("_bytes")):
                problems.append("histogram \(name) is not in seconds or bytes")
            case "gauge" where name.hasSuffix("_total"):
                problems.append("gauge \(name) ends in _total")
            default:
                break
            }
            if name.contains("millis") || name.contains("_ms") || name.contains("kilobytes") { problems.append("\(name) is not in base units") }
        }
        return (problems, types.keys.filter { $0.hasPrefix("warren_") }.count, series)
    }
}
