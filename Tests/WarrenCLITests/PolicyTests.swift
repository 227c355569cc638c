import Foundation
import TestServers
import Testing

/// The supply-chain policy with the real go command: each kind of rule refuses with its
/// reason in the go command's output, OSV records imported into a running Warren block
/// an affected version (also one the fast path had answered before) and let the fixed
/// one through, warn mode marks answers instead, and every refusal is audited.
@Suite struct PolicyTests {
    let fixture = ModuleFixture.shared

    static func osvDirectory(_ root: String) throws {
        let dir = root + "/osv/ID"
        try FileManager.default.createDirectory(atPath: root + "/osv/index", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        // As the Go vulnerability database lays it out: records under ID/, an index beside them.
        try Data(#"{"id":"GO-2099-0001","modified":"2099-01-01T00:00:00Z","aliases":["CVE-2099-0001"],"summary":"Decoder panics on crafted input in github.com/BurntSushi/toml","affected":[{"package":{"name":"github.com/BurntSushi/toml","ecosystem":"Go"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.2.2"}]}]}]}"#.utf8)
            .write(to: URL(fileURLWithPath: dir + "/GO-2099-0001.json"))
        try Data(#"{"id":"GO-2099-0002","aliases":["GHSA-xxxx-yyyy-zzzz"],"summary":"Old comparisons","affected":[{"package":{"name":"github.com/google/go-cmp","ecosystem":"Go"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0.5.0"},{"last_affected":"0.5.8"}]}]}]}"#.utf8)
            .write(to: URL(fileURLWithPath: dir + "/GO-2099-0002.json"))
        try Data(#"[{"id":"GO-2099-0001"}]"#.utf8).write(to: URL(fileURLWithPath: root + "/osv/index/vulns.json"))
    }

    @Test func eachRuleRefusesWithItsReasonAndImportedVulnerabilitiesBlock() async throws {
        let scratch = ScratchDirectory()
        let audit = scratch.path + "/audit.log"
        let warren = try await WarrenServerProcess.start(arguments: [
            "--upstream", "file://" + fixture.root, "--audit-log", audit, "--vulnerabilities", "block",
            "--policy", #"deny github.com/dgrijalva/jwt-go "unmaintained: use github.com/golang-jwt/jwt"; deny github.com/kr/text < v0.2.0 "CVE-2099-0100: upgrade to v0.2.0"; allow golang.org/x/text >= v0.7.0; deny golang.org/x/* "golang.org/x needs a review"; allow-only github.com/*,golang.org/x/*"#,
        ])
        defer { warren.stop() }
        let go = GoClient(proxy: warren.url)
        for (module, words) in [("github.com/dgrijalva/jwt-go@v3.2.0+incompatible", "denied by policy: unmaintained: use github.com/golang-jwt/jwt"),
                                ("github.com/kr/text@v0.1.0", "denied by policy: CVE-2099-0100: upgrade to v0.2.0"),
                                ("gopkg.in/yaml.v3@v3.0.1", "gopkg.in/yaml.v3 is not on the allow-only list")] {
            let refused = try await go.run(["mod", "download", module])
            #expect(refused.status != 0 && refused.stderr.contains("403 Forbidden") && refused.stderr.contains(words), "\(module): \(refused.stderr)")
        }
        let listed = try await go.run(["list", "-m", "-versions", "github.com/dgrijalva/jwt-go"])
        #expect(listed.status != 0 && listed.stderr.contains("unmaintained"), "\(listed.stderr)")
        let allowed = try await go.run(["mod", "download", "github.com/kr/text@v0.2.0", "golang.org/x/text@v0.7.0", "github.com/BurntSushi/toml@v1.2.1"])
        #expect(allowed.status == 0, "\(allowed.stderr)")

        // Answered once more: now from memory, the fast path's table.
        let zip = warren.url + "/github.com/!burnt!sushi/toml/@v/v1.2.1.zip"
        #expect(try await HTTP.get(zip).status == 200)
        #expect(try await HTTP.get(zip).status == 200)

        // Records imported into the running server's database take effect within seconds.
        try Self.osvDirectory(scratch.path)
        let imported = try await WarrenBinary.run(["vuln", "import", scratch.path + "/osv", "--data-dir", warren.dataDir],
                                                  environment: ["PATH": "/usr/bin:/bin"])
        #expect(imported.status == 0 && imported.stdout.contains("imported 2 vulnerability records affecting 2 modules"),
                "\(imported.stdout) \(imported.stderr)")
        var refusedZip = HTTPExchange(status: 0, headers: [:], body: [])
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            refusedZip = try await HTTP.get(zip)
            if refusedZip.status == 403 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(refusedZip.status == 403 && refusedZip.text.contains("GO-2099-0001 (CVE-2099-0001)"), "\(refusedZip.status) \(refusedZip.text)")
        let fresh = GoClient(proxy: warren.url)
        let blocked = try await fresh.run(["mod", "download", "github.com/BurntSushi/toml@v1.2.1"])
        #expect(blocked.status != 0 && blocked.stderr.contains("has known vulnerability GO-2099-0001 (CVE-2099-0001): Decoder panics")
                && blocked.stderr.contains("fixed in v1.2.2"), "\(blocked.stderr)")
        // last_affected v0.5.8: v0.5.9 is past it.
        let fixed = try await fresh.run(["mod", "download", "github.com/google/go-cmp@v0.5.9"])
        #expect(fixed.status == 0, "\(fixed.stderr)")

        // A malformed record stops an import, naming its file.
        try Data(#"{"id":"GO-BAD","affected":[{"package":{"name":"x","ecosystem":"Go"},"ranges":[{"type":"SEMVER","events":[{"broken":"1"}]}]}]}"#.utf8)
            .write(to: URL(fileURLWithPath: scratch.path + "/osv/ID/GO-BAD.json"))
        let bad = try await WarrenBinary.run(["vuln", "import", scratch.path + "/osv", "--data-dir", warren.dataDir], environment: ["PATH": "/usr/bin:/bin"])
        #expect(bad.status != 0 && bad.stderr.contains("GO-BAD.json"), "\(bad.stderr)")

        // Every refusal is in the audit log, with its reason.
        let lines = try await Self.auditLines(audit, atLeast: 5)
        let denials = lines.filter { $0.contains("\"action\":\"policy\"") && $0.contains("\"result\":\"denied\"") }
        #expect(denials.contains { $0.contains("jwt-go") } && denials.contains { $0.contains("GO-2099-0001") }
                && denials.contains { $0.contains("allow-only") }, "\(lines)")
    }

    @Test func warnModeMarksAffectedAnswersAndServesThem() async throws {
        let scratch = ScratchDirectory()
        try Self.osvDirectory(scratch.path)
        let data = scratch.path + "/data"
        let imported = try await WarrenBinary.run(["vuln", "import", scratch.path + "/osv", "--data-dir", data], environment: ["PATH": "/usr/bin:/bin"])
        #expect(imported.status == 0, "\(imported.stderr)")
        let warren = try await WarrenServerProcess.start(arguments: ["--upstream", "file://" + fixture.root], dataDir: data)
        defer { warren.stop() }
        for _ in 0..<2 {
            let answer = try await HTTP.get(warren.url + "/github.com/!burnt!sushi/toml/@v/v1.2.1.zip")
            #expect(answer.status == 200 && answer.headers["X-Warren-Vulnerabilities"].first == "GO-2099-0001", "\(answer.headers)")
        }
        let clean = try await HTTP.get(warren.url + "/github.com/google/go-cmp/@v/v0.5.9.mod")
        #expect(clean.status == 200 && clean.headers["X-Warren-Vulnerabilities"].isEmpty)
        let metrics = try await HTTP.get(warren.url + "/metrics").text
        #expect(metrics.contains("warren_vulnerable_answers_total{mode=\"warn\"} 2"), "\(metrics.split(separator: "\n").filter { $0.contains("vulnerable") })")
    }

    /// The audit log's lines once it has at least `count` (it is written in batches).
    static func auditLines(_ path: String, atLeast count: Int) async throws -> [String] {
        let deadline = ContinuousClock.now + .seconds(15)
        var lines: [String] = []
        while ContinuousClock.now < deadline {
            lines = ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
            if lines.count >= count { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        return lines
    }
}
