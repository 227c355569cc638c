import Foundation
import Testing
@testable import WarrenClientTools

/// Builds the environment the doctor sees from shell variables and a `go env -w` file.
func goEnvironment(_ shell: [String: String], file: [String: String] = [:]) throws -> GoEnvironment {
    let dir = FileManager.default.temporaryDirectory.path + "/warren-doctor-unit-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let text = file.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)\n" }.joined()
    try Data(text.utf8).write(to: URL(fileURLWithPath: dir + "/env"))
    return GoEnvironmentReader.read(environment: shell.merging(["GOENV": dir + "/env", "HOME": dir]) { a, _ in a })
}

func finding(_ code: String, in findings: [Finding]) -> Finding? { findings.first { $0.code == code } }

@Suite("Doctor: reading the Go environment")
struct GoEnvironmentReaderTests {
    @Test func environmentBeatsFileBeatsDefault() throws {
        let env = try goEnvironment(["GOPROXY": "https://a.example"], file: ["GOPROXY": "https://b.example", "GOPRIVATE": "corp.example"])
        #expect(env.goproxy == "https://a.example")
        #expect(env.source("GOPROXY") == .environment)
        #expect(env.settings["GOPROXY"]?.fileValue == "https://b.example")
        #expect(env.goprivate == "corp.example" && env.source("GOPRIVATE") == .envFile)
        #expect(env.gonoproxy == "corp.example" && env.source("GONOPROXY") == .derived)
        #expect(env.gosumdb == "sum.golang.org" && env.source("GOSUMDB") == .defaultValue)
    }

    @Test func emptyShellValueDoesNotOverrideTheFile() throws {
        let env = try goEnvironment(["GOPROXY": ""], file: ["GOPROXY": "https://b.example"])
        #expect(env.goproxy == "https://b.example")
    }

    @Test func envFileIgnoresCommentsAndJunk() {
        let parsed = GoEnvironmentReader.parseEnvFile("# comment\nGOPROXY=https://x|direct\nlower=1\nnoequals\nGOFLAGS=-mod=mod\n")
        #expect(parsed == ["GOPROXY": "https://x|direct", "GOFLAGS": "-mod=mod"])
    }
}

@Suite("Doctor: misconfigurations and their fixes")
struct ConfigurationChecksTests {
    @Test func unknownSchemeIsAnErrorWithARepairedList() throws {
        let env = try goEnvironment([:], file: ["GOPROXY": "ftp://mirror.example/go,direct"])
        let f = try #require(finding("proxy-bad-url", in: ConfigurationChecks.run(env)))
        #expect(f.severity == .error)
        #expect(f.summary.contains("ftp://mirror.example/go"))
        #expect(f.fix == "go env -w GOPROXY=https://mirror.example/go,direct")
    }

    @Test func entriesAfterDirectAreNeverUsed() throws {
        let env = try goEnvironment(["GOPROXY": "direct,https://goproxy.cn"])
        let f = try #require(finding("proxy-unreachable-entries", in: ConfigurationChecks.run(env)))
        #expect(f.fix == "export GOPROXY=https://goproxy.cn,direct")
    }

    @Test func failingProxyBeforeCommaNeedsAPipe() throws {
        let env = try goEnvironment(["GOPROXY": "https://slow.example,https://goproxy.cn,direct"])
        let seen = ProxyObservation(url: "https://slow.example", looksLikeHTML: false,
                                    failure: ProbeFailure(kind: .timeout, message: "timed out after 5 s"), netrcEntry: false, timings: PhaseTimings())
        let f = try #require(finding("proxy-comma-stops", in: ConfigurationChecks.run(env, observations: ["https://slow.example": seen])))
        #expect(f.severity == .error)
        #expect(f.fix == "export GOPROXY='https://slow.example|https://goproxy.cn,direct'")
    }

    @Test func serverErrorsAreNamedByWhatTheSeparatorDoes() throws {
        let answering500 = ProxyObservation(url: "https://a.example", status: 503, looksLikeHTML: false, netrcEntry: false, timings: PhaseTimings())
        let comma = try goEnvironment(["GOPROXY": "https://a.example,direct"])
        #expect(finding("proxy-comma-stops", in: ConfigurationChecks.run(comma, observations: ["https://a.example": answering500])) != nil)
        let pipe = try goEnvironment(["GOPROXY": "https://a.example|direct"])
        let f = try #require(finding("proxy-server-error", in: ConfigurationChecks.run(pipe, observations: ["https://a.example": answering500])))
        #expect(f.severity == .warning)
        let last = try goEnvironment(["GOPROXY": "https://a.example"])
        #expect(finding("proxy-server-error", in: ConfigurationChecks.run(last, observations: ["https://a.example": answering500]))?.severity == .error)
    }

    @Test func proxyAnsweringHTMLIsFound() throws {
        let env = try goEnvironment(["GOPROXY": "https://artifactory.example"])
        let seen = ProxyObservation(url: "https://artifactory.example", status: 200, contentType: "text/html", looksLikeHTML: true, netrcEntry: false, timings: PhaseTimings())
        let f = try #require(finding("proxy-answers-html", in: ConfigurationChecks.run(env, observations: ["https://artifactory.example": seen])))
        #expect(f.severity == .error)
    }

    @Test func shadowedPatternsAreNamed() throws {
        let env = try goEnvironment(["GOPRIVATE": "github.com/corp,github.com/corp/tools,*.internal.example"])
        let f = try #require(finding("pattern-shadowed", in: ConfigurationChecks.run(env)))
        #expect(f.summary.contains("github.com/corp/tools is already covered by github.com/corp"))
        #expect(f.fix == "export GOPRIVATE='github.com/corp,*.internal.example'")
    }

    @Test func patternWithSchemeNeverMatches() throws {
        let env = try goEnvironment(["GOPRIVATE": "https://git.corp.example"])
        let f = try #require(finding("pattern-never-matches", in: ConfigurationChecks.run(env)))
        #expect(f.fix == "export GOPRIVATE=git.corp.example")
    }

    @Test func privateModulesLeakWhenGONOPROXYReplacesGOPRIVATE() throws {
        let env = try goEnvironment(["GOPRIVATE": "github.com/corp", "GONOPROXY": "git.corp.example", "GONOSUMDB": "git.corp.example"])
        let findings = ConfigurationChecks.run(env)
        let proxy = try #require(finding("private-through-proxy", in: findings))
        #expect(proxy.severity == .error)
        #expect(proxy.summary.contains("https://proxy.golang.org"))
        #expect(proxy.fix == "export GONOPROXY=git.corp.example,github.com/corp")
        let sumdb = try #require(finding("private-to-sumdb", in: findings))
        #expect(sumdb.fix == "export GONOSUMDB=git.corp.example,github.com/corp")
    }

    @Test func goprivateAloneIsFine() throws {
        let env = try goEnvironment([:], file: ["GOPRIVATE": "github.com/corp"])
        let findings = ConfigurationChecks.run(env)
        #expect(findings.filter { $0.severity >= .warning }.isEmpty, "\(findings)")
    }

    @Test func sumdbOffIsAWarning() throws {
        let env = try goEnvironment([:], file: ["GOSUMDB": "off"])
        let f = try #require(finding("sumdb-off", in: ConfigurationChecks.run(env)))
        #expect(f.severity == .warning)
        #expect(f.fix?.hasPrefix("go env -u GOSUMDB") == true)
    }

    @Test func goinsecureDoesNotHelpAProxyCertificate() throws {
        let env = try goEnvironment(["GOPROXY": "https://goproxy.corp.example,direct", "GOINSECURE": "goproxy.corp.example"])
        let f = try #require(finding("goinsecure-proxy", in: ConfigurationChecks.run(env)))
        #expect(f.fix?.contains("SSL_CERT_FILE") == true)
    }

    @Test func shellValueOverridingTheEnvFileIsFound() throws {
        let env = try goEnvironment(["GOPROXY": "https://a.example,direct"], file: ["GOPROXY": "https://b.example,direct"])
        let f = try #require(finding("env-overrides-file", in: ConfigurationChecks.run(env)))
        #expect(f.summary.contains("https://a.example,direct") && f.summary.contains("https://b.example,direct"))
        let shellOnly = try goEnvironment(["GOPRIVATE": "corp.example"])
        #expect(finding("env-only", in: ConfigurationChecks.run(shellOnly))?.fix == "go env -w GOPRIVATE=corp.example")
        let inCI = try goEnvironment(["CI": "true"], file: ["GOPROXY": "https://b.example"])
        #expect(finding("file-only-in-ci", in: ConfigurationChecks.run(inCI)) != nil)
    }

    @Test func credentialsInTheProxyURLAreFlaggedAndRedacted() throws {
        let env = try goEnvironment(["GOPROXY": "https://bob:s3cret@goproxy.corp.example"])
        let report = DoctorReport.build(env, observations: [])
        #expect(finding("proxy-credentials-in-url", in: report.findings) != nil)
        let json = String(decoding: try JSONEncoder().encode(report), as: UTF8.self)
        #expect(!json.contains("s3cret"))
    }
}

@Suite("Doctor: routes and patterns")
struct RouteExplanationTests {
    @Test func privateModuleGoesDirectAndSkipsTheDatabase() throws {
        let env = try goEnvironment(["GOPRIVATE": "*.corp.example"])
        let route = try RouteExplanation.explain(module: "git.corp.example/team/app", version: "v1.2.3", env: env)
        #expect(route.steps.map(\.kind) == ["direct"])
        #expect(route.steps[0].reason.contains("GOPRIVATE pattern *.corp.example"))
        #expect(route.checksumDatabase == nil)
    }

    @Test func publicModuleWalksTheListWithItsRules() throws {
        let env = try goEnvironment(["GOPROXY": "https://goproxy.cn|https://proxy.golang.org,direct"])
        let route = try RouteExplanation.explain(module: "golang.org/x/text", version: nil, env: env)
        #expect(route.steps.map(\.target) == ["https://goproxy.cn", "https://proxy.golang.org", "direct"])
        #expect(route.steps[0].onFailure.contains("any error"))
        #expect(route.steps[1].onFailure.contains("404 or 410"))
        #expect(route.checksumDatabase == "sum.golang.org")
    }

    @Test func badModulePathIsRejected() throws {
        let env = try goEnvironment([:])
        #expect(throws: (any Error).self) { try RouteExplanation.explain(module: "not a path", version: nil, env: env) }
    }

    @Test func covering() {
        #expect(PatternAnalysis.covers("github.com/corp", "github.com/corp/x"))
        #expect(PatternAnalysis.covers("*.corp.example", "git.corp.example/a"))
        #expect(PatternAnalysis.covers("github.com/*", "github.com/c*"))
        #expect(!PatternAnalysis.covers("github.com/corp/x", "github.com/corp"))
        #expect(!PatternAnalysis.covers("github.com/c", "github.com/c*"))
    }
}
