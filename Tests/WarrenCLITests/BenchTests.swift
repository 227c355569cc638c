import Foundation
import Testing
import WarrenClientTools

/// `warren bench` against three loopback proxies serving the same modules, one of them
/// with a tampered zip, and its HTML report rendered by a real browser.
@Suite("warren bench", .serialized)
struct BenchTests {
    @Test func tamperedZipIsFoundAndNamed() async throws {
        let fixture = ModuleFixture.shared
        let sumdb = try SumDBServer(root: fixture.root)
        defer { sumdb.stop() }
        let warren = try await WarrenServerProcess.start(arguments: ["--upstream", "file://" + fixture.root])
        defer { warren.stop() }
        let honest = FaultyUpstream(root: fixture.root)
        try await honest.start()
        defer { honest.stop() }
        let tampered = FaultyUpstream(root: fixture.root)
        try await tampered.start()
        defer { tampered.stop() }
        // The tampered proxy serves v0.1.0's zip as v0.2.0's.
        let wrongZip = try Data(contentsOf: URL(fileURLWithPath: fixture.root + "/github.com/kr/text/@v/v0.1.0.zip"))
        tampered.setFault("github.com/kr/text/@v/v0.2.0.zip", .replace(Array(wrongZip)))

        let kr = try #require(fixture.module("github.com/kr/text", "v0.2.0"))
        let yaml = try #require(fixture.module("gopkg.in/yaml.v3", "v3.0.1"))
        let home = ScratchDirectory()
        // go.sum: right for kr/text; yaml's go.mod line deliberately wrong.
        try home.write("go.sum", """
        github.com/kr/text v0.2.0 \(kr.zipHash)
        github.com/kr/text v0.2.0/go.mod \(kr.modHash)
        gopkg.in/yaml.v3 v3.0.1 \(yaml.zipHash)
        gopkg.in/yaml.v3 v3.0.1/go.mod h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=

        """)
        let report = home.path + "/bench.json"
        let out = try await WarrenBinary.run([
            "bench", "--proxy", warren.url, "--proxy", honest.url, "--proxy", tampered.url, home.path + "/go.sum",
            "--repetitions", "2", "--concurrency", "3", "--format", "json", "-o", report, "--sumdb", "\(sumdb.verifierKey) \(sumdb.url)",
        ], environment: toolEnvironment(home: home.path))
        #expect(out.status == 1, "\(out.stderr)")
        let result = try JSONDecoder().decode(BenchResult.self, from: Data(contentsOf: URL(fileURLWithPath: report)))

        let kinds = result.inconsistencies.map { "\($0.kind) \($0.module) \($0.endpoint)" }
        #expect(kinds.contains("proxies-disagree github.com/kr/text@v0.2.0 zip"), "\(kinds)")
        #expect(kinds.contains("checksum-database github.com/kr/text@v0.2.0 zip"))
        #expect(kinds.contains("go.sum github.com/kr/text@v0.2.0 zip"))
        #expect(kinds.contains("go.sum gopkg.in/yaml.v3@v3.0.1 mod"))
        #expect(!kinds.contains { $0.hasSuffix("gopkg.in/yaml.v3@v3.0.1 zip") })
        let disagree = try #require(result.inconsistencies.first { $0.kind == "proxies-disagree" })
        #expect(disagree.summary.contains("\(tampered.url) differs from the other proxies"))
        #expect(disagree.values[tampered.url] != kr.zipHash && disagree.values[honest.url] == kr.zipHash)
        let sumdbFinding = try #require(result.inconsistencies.first { $0.kind == "checksum-database" })
        #expect(sumdbFinding.summary.contains("from \(tampered.url) does not match sum.test"))
        #expect(result.checksumDatabaseNote?.hasPrefix("records compared") == true)

        // Every proxy got every request: 2 items × 2 repetitions, with no client-side cache.
        #expect(result.stats.count == 3)
        for s in result.stats {
            #expect(s.failures.isEmpty, "\(s.proxy): \(s.failures)")
            #expect(s.endpoints.map(\.endpoint) == ["list", "info", "mod", "zip"])
            #expect(s.endpoints.allSatisfy { $0.total?.count == 4 })
        }
        #expect(honest.count("github.com/kr/text/@v/v0.2.0.zip") == 2)
        #expect(result.stats[0].coldWarmBasis == "cache header")
        #expect(result.stats[1].coldWarmBasis == "repetition")
        #expect(result.stats[1].endpoints[3].cold?.count == 2 && result.stats[1].endpoints[3].warm?.count == 2)
        // The table for people is printed too, inconsistencies first.
        #expect(out.stderr.contains("inconsistenc"))
    }

    @Test func htmlReportRendersWithTableAndCharts() async throws {
        let fixture = ModuleFixture.shared
        let warren = try await WarrenServerProcess.start(arguments: ["--upstream", "file://" + fixture.root])
        defer { warren.stop() }
        let other = FaultyUpstream(root: fixture.root)
        try await other.start()
        defer { other.stop() }
        let home = ScratchDirectory()
        let page = home.path + "/bench.html"
        let out = try await WarrenBinary.run([
            "bench", "--proxy", warren.url, "--proxy", other.url, "gopkg.in/yaml.v3@v3.0.1", "github.com/kr/text@v0.2.0",
            "--repetitions", "2", "--format", "html", "-o", page, "--sumdb", "off", "--progress",
        ], environment: toolEnvironment(home: home.path))
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stderr.contains("] 32/32 requests"))

        let chromium = try #require(["/usr/bin/chromium-headless-shell", "/usr/bin/chromium"].first(where: FileManager.default.isExecutableFile(atPath:)),
                                    "chromium-headless-shell is not installed (scripts/install-deps.sh test)")
        let flags = ["--no-sandbox", "--disable-gpu", "--headless", "--window-size=1200,1400", "--hide-scrollbars"]
        let shot = home.path + "/bench.png"
        let env = ["HOME": home.path, "PATH": "/usr/bin:/bin"]
        let rendered = try await ExternalCommand.run(chromium, flags + ["--screenshot=\(shot)", "file://\(page)"], environment: env)
        #expect(rendered.status == 0, "\(rendered.stderr)")
        let png = try Data(contentsOf: URL(fileURLWithPath: shot))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        let width = png[16..<20].reduce(0) { $0 << 8 | Int($1) }, height = png[20..<24].reduce(0) { $0 << 8 | Int($1) }
        #expect(width == 1200 && height == 1400)
        #expect(png.count > 20_000, "a page with charts and tables is not a blank image (\(png.count) bytes)")

        // The DOM after rendering: the table, one chart per endpoint, one bar per proxy.
        let dom = try await ExternalCommand.run(chromium, flags + ["--dump-dom", "file://\(page)"], environment: env)
        #expect(dom.stdout.contains("<table id=\"latency\">"))
        #expect(dom.stdout.components(separatedBy: "class=\"bars\"").count - 1 == 4)
        #expect(dom.stdout.components(separatedBy: "<rect x=\"0\"").count - 1 == 8)
        #expect(dom.stdout.contains(warren.url) && dom.stdout.contains(other.url))
    }

    @Test func badInputsAreOneLineErrors() async throws {
        let home = ScratchDirectory()
        let env = toolEnvironment(home: home.path)
        let noVersion = try await WarrenBinary.run(["bench", "--proxy", "http://127.0.0.1:1", "github.com/kr/text"], environment: env)
        #expect(noVersion.status == 2)
        #expect(noVersion.stderr.contains("want module@version"))
        let badProxy = try await WarrenBinary.run(["bench", "--proxy", "ftp://x", "github.com/kr/text@v0.2.0"], environment: env)
        #expect(badProxy.status != 0 && badProxy.stderr.contains("scheme"))
    }
}
