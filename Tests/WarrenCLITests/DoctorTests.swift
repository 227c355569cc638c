import Foundation
import Testing
import WarrenClientTools

/// `warren doctor` as a developer runs it, in environments the tests construct: shell
/// variables, a GOENV file written by the real `go env -w`, and loopback proxies.
@Suite("warren doctor", .serialized)
struct DoctorTests {
    @Test func readsTheRealGoEnvAndFindsTheShellOverridingGoEnvW() async throws {
        let home = ScratchDirectory()
        let env = toolEnvironment(home: home.path)
        // The file is written by the go command itself.
        let written = try await ExternalCommand.run("/usr/bin/go", ["env", "-w", "GOPROXY=https://goproxy.cn,direct", "GOPRIVATE=github.com/corp"], environment: env)
        #expect(written.status == 0, "\(written.stderr)")
        let out = try await WarrenBinary.run(["doctor", "--json", "--offline"], environment: env.merging(["GOPROXY": "http://mirror.corp.example,direct"]) { _, n in n })
        #expect(out.status == 1, "\(out.stderr)")
        let report = try decodeJSON(DoctorReport.self, out.stdout)
        #expect(report.goCommand == "/usr/bin/go")
        #expect(report.settings["GOPROXY"]?.value == "http://mirror.corp.example,direct")
        #expect(report.settings["GOPROXY"]?.source == .environment)
        #expect(report.settings["GOPROXY"]?.fileValue == "https://goproxy.cn,direct")
        #expect(report.settings["GOPRIVATE"]?.source == .envFile)
        #expect(report.settings["GONOSUMDB"]?.value == "github.com/corp")
        let codes = Set(report.findings.map(\.code))
        #expect(codes.isSuperset(of: ["env-overrides-file", "proxy-plain-http"]), "\(codes)")
        let override = try #require(report.findings.first { $0.code == "env-overrides-file" })
        #expect(override.fix == "unset GOPROXY  # or: go env -w GOPROXY=http://mirror.corp.example,direct")
        #expect(report.proxies.map(\.entry) == ["http://mirror.corp.example", "direct"])
    }

    @Test func withoutAGoCommandTheEnvFileIsReadDirectly() async throws {
        let home = ScratchDirectory()
        try home.write("go-env", "GOPROXY=https://goproxy.io,direct\nGOSUMDB=off\n")
        let out = try await WarrenBinary.run(["doctor", "--json", "--offline"], environment: toolEnvironment(home: home.path, ["PATH": "/nonexistent"]))
        let report = try decodeJSON(DoctorReport.self, out.stdout)
        #expect(report.goCommand == nil)
        #expect(report.settings["GOPROXY"]?.value == "https://goproxy.io,direct")
        #expect(report.findings.contains { $0.code == "sumdb-off" && $0.fix?.hasPrefix("go env -u GOSUMDB") == true })
        #expect(out.status == 1)
    }

    @Test func brokenGOFLAGSIsReportedFromTheGoCommand() async throws {
        let home = ScratchDirectory()
        let out = try await WarrenBinary.run(["doctor", "--json", "--offline"], environment: toolEnvironment(home: home.path, ["GOFLAGS": "mod=mod"]))
        let report = try decodeJSON(DoctorReport.self, out.stdout)
        let f = try #require(report.findings.first { $0.code == "goflags-invalid" })
        #expect(f.summary.contains("mod=mod"))
        #expect(f.fix == "export GOFLAGS=-mod=mod")
        #expect(f.severity == .error)
    }

    @Test func quickCheckFindsAProxyServingHTMLAndADeadOneBeforeAComma() async throws {
        let html = FaultyUpstream(root: ModuleFixture.shared.root)
        try await html.start()
        defer { html.stop() }
        html.setFault("golang.org/x/text/@v/list", .replace(Array("<!DOCTYPE html><html><body>Sign in</body></html>".utf8)))
        let dead = "http://127.0.0.1:\(closedLoopbackPort())"
        let home = ScratchDirectory()
        let env = toolEnvironment(home: home.path, ["GOPROXY": "\(dead),\(html.url),direct"])
        let out = try await WarrenBinary.run(["doctor", "--json", "--timeout", "10"], environment: env)
        #expect(out.status == 1)
        let report = try decodeJSON(DoctorReport.self, out.stdout)
        let stops = try #require(report.findings.first { $0.code == "proxy-comma-stops" })
        #expect(stops.summary.contains("connection refused"))
        #expect(stops.fix == "export GOPROXY='\(dead)|\(html.url),direct'")
        #expect(report.findings.contains { $0.code == "proxy-answers-html" && $0.summary.contains(html.url) })
        // The same in the report for people, without colour codes when not a terminal.
        let text = try await WarrenBinary.run(["doctor", "--timeout", "10"], environment: env)
        #expect(text.stdout.contains("answers 200 with an HTML page"))
        #expect(!text.stdout.contains("\u{1B}["))
    }

    @Test func cleanSetUpExitsZero() async throws {
        let fixture = ModuleFixture.shared
        let warren = try await WarrenServerProcess.start(arguments: ["--upstream", "file://" + fixture.root])
        defer { warren.stop() }
        let home = ScratchDirectory()
        let out = try await WarrenBinary.run(["doctor", "--module", "gopkg.in/yaml.v3"],
                                             environment: toolEnvironment(home: home.path, ["GOPROXY": warren.url + ",direct", "GOSUMDB": "sum.golang.org"]))
        #expect(out.status == 0, "\(out.stdout)")
        #expect(out.stdout.contains("✓ no problems found"))
    }

    @Test func routeExplainsAPrivateModule() async throws {
        let home = ScratchDirectory()
        let env = toolEnvironment(home: home.path, ["GOPROXY": "https://goproxy.cn|https://proxy.golang.org,direct", "GOPRIVATE": "*.corp.example"])
        let out = try await WarrenBinary.run(["doctor", "route", "git.corp.example/app@v1.0.0", "--json"], environment: env)
        #expect(out.status == 0, "\(out.stderr)")
        let route = try decodeJSON(RouteExplanation.self, out.stdout)
        #expect(route.steps.map(\.kind) == ["direct"])
        #expect(route.checksumDatabase == nil)
        let pub = try await WarrenBinary.run(["doctor", "route", "golang.org/x/text"], environment: env)
        #expect(pub.stdout.contains("1. https://goproxy.cn"))
        #expect(pub.stdout.contains("any error falls through"))
        let bad = try await WarrenBinary.run(["doctor", "route", "../etc/passwd"], environment: env)
        #expect(bad.status == 2)
        #expect(bad.stderr.split(separator: "\n").count == 1)
    }
}
