import Foundation
import TestServers
import Testing

/// Warren's own checksum database with the real go command: GOSUMDB names Warren's
/// database alone, with an empty GONOSUMDB, and hosted, private (direct from git) and
/// public modules are all verified through it; x/mod's client proves the log from its
/// tiles; `warren sumdb audit` passes; and tampering with a record, a stored hash or
/// the tree head in the database is caught by the go command, by x/mod and by the audit.
@Suite struct OwnChecksumDatabaseTests {
    static let name = "sum.corp.test"

    @Test func theGoCommandVerifiesEverythingThroughWarrenAndCatchesTampering() async throws {
        let fixture = ModuleFixture.shared
        let git = GitFixture.shared
        let db = try SumDBServer(root: fixture.root)
        defer { db.stop() }
        let scratch = ScratchDirectory()
        let data = scratch.path + "/data"
        let initialized = try await WarrenBinary.run(["sumdb", "init", "--name", Self.name, "--data-dir", data,
                                                      "--public-url", "https://goproxy.corp.test"], environment: ["PATH": "/usr/bin:/bin"])
        #expect(initialized.status == 0, "\(initialized.stderr)")
        let key = try #require(initialized.stdout.split(separator: "\n").first { $0.hasPrefix("verifier key: ") }?.dropFirst("verifier key: ".count))
        #expect(initialized.stdout.contains("GOSUMDB=\"\(key) https://goproxy.corp.test/sumdb/\(Self.name)\""), "\(initialized.stdout)")
        let secret = try String(contentsOfFile: data + "/sumdb-signer.key", encoding: .utf8)
        #expect(!initialized.stdout.contains(secret.trimmingCharacters(in: .whitespacesAndNewlines)) && !initialized.stderr.contains("PRIVATE"))
        let again = try await WarrenBinary.run(["sumdb", "init", "--name", Self.name, "--data-dir", data], environment: ["PATH": "/usr/bin:/bin"])
        #expect(again.status != 0 && again.stderr.contains("already"), "\(again.stderr)")

        let warren = try await WarrenServerProcess.start(arguments: [
            "--upstream", "file://" + fixture.root, "--sumdb", db.verifierKey + " " + db.url, "--private", "github.com/wtest",
            "--hosted", "go.corp.test/*", "--sumdb-log", "all",
            "--permissions", "user:ci publish go.corp.test/*; anonymous read go.corp.test/*",
        ], dataDir: data, environment: git.environment)
        defer { warren.stop() }
        let token = try await offThread { try WarrenBinary.run(["token", "create", "--data-dir", data, "--user", "ci"]) }
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try Data("machine 127.0.0.1 login ci password \(token)\n".utf8).write(to: URL(fileURLWithPath: scratch.path + "/netrc"))
        let lib = scratch.path + "/lib"
        try PublishTests.writeModule(lib, module: "go.corp.test/lib", greeting: "hosted")
        let published = try await WarrenBinary.run(["publish", lib, "go.corp.test/lib@v1.0.0", "--to", warren.url],
                                                   environment: ["PATH": "/usr/bin:/bin", "NETRC": scratch.path + "/netrc"])
        #expect(published.status == 0, "\(published.stderr)")
        let hostedHash = try #require(published.stdout.split(separator: "\n").first?.split(separator: " ").last.map(String.init))

        // GOSUMDB is Warren's database alone; nothing is exempt.
        let modules = ["go.corp.test/lib@v1.0.0", "github.com/wtest/multi/sub@v1.0.0", "github.com/BurntSushi/toml@v1.2.1"]
        func client() -> GoClient { GoClient(proxy: warren.url, environment: ["GOSUMDB": String(key), "GONOSUMDB": "", "GOPRIVATE": ""]) }
        let go = client()
        try Data("module example.com/app\n\ngo 1.19\n".utf8).write(to: URL(fileURLWithPath: go.workDir + "/go.mod"))
        let get = try await go.run(["get"] + modules)
        #expect(get.status == 0, "\(get.stderr)")
        let verify = try await go.run(["mod", "verify"])
        #expect(verify.status == 0 && verify.stdout.contains("all modules verified"), "\(verify.stdout) \(verify.stderr)")
        // The go command asked Warren's database about each of them.
        let lookups = go.home + "/gopath/pkg/mod/cache/download/sumdb/\(Self.name)/lookup"
        for module in ["go.corp.test/lib@v1.0.0", "github.com/wtest/multi/sub@v1.0.0", "github.com/!burnt!sushi/toml@v1.2.1"] {
            #expect(FileManager.default.fileExists(atPath: lookups + "/" + module), "no lookup of \(module)")
        }
        let sum = try String(contentsOfFile: go.workDir + "/go.sum", encoding: .utf8)
        #expect(sum.contains("go.corp.test/lib v1.0.0 \(hostedHash)"), "\(sum)")
        let text = try #require(fixture.module("github.com/BurntSushi/toml", "v1.2.1"))
        #expect(sum.contains("github.com/BurntSushi/toml v1.2.1 \(text.zipHash)"), "\(sum)")
        // The private module's name never reached the public database.
        #expect(!db.requests.contains { $0.contains("wtest") || $0.contains("corp.test") }, "\(db.requests)")

        // x/mod's client proves the same lines and the whole log from its tiles.
        let url = warren.url + "/sumdb/" + Self.name
        let honest = try await SumDBClientTool.check(url: url, key: String(key), modules)
        #expect(honest.status == 0 && honest.stdout.contains("log ok 3 records"), "\(honest.stdout) \(honest.stderr)")
        #expect(honest.stdout.contains("github.com/BurntSushi/toml v1.2.1 \(text.zipHash)"), "\(honest.stdout)")
        let audit = try await WarrenBinary.run(["sumdb", "audit", "--data-dir", data, "--key", String(key)], environment: ["PATH": "/usr/bin:/bin"])
        #expect(audit.status == 0 && audit.stdout.contains("holds 3 records"), "\(audit.stdout) \(audit.stderr)")

        // Tampering behind Warren's back, one thing at a time, each put back after.
        let database = data + "/index.sqlite"
        // What x/mod's client and the audit each say about it.
        let tamperings: [(what: String, sql: String, restore: String, xmod: String, audit: String)] = [
            ("a record", "UPDATE sumdb_records SET record = replace(record, ' h1:', ' h1:A') WHERE module = 'go.corp.test/lib'",
             "UPDATE sumdb_records SET record = replace(record, ' h1:A', ' h1:') WHERE module = 'go.corp.test/lib'",
             "cannot authenticate record data", "stored hash"),
            ("a stored hash", "UPDATE sumdb_hashes SET hash = '00' || substr(hash, 3) WHERE id = 1",
             "UPDATE sumdb_hashes SET hash = :saved WHERE id = 1", "inconsistent tile", "stored hash 1"),
            ("the tree head", "UPDATE sumdb_log SET signed_head = replace(signed_head, char(10) || '3' || char(10), char(10) || '2' || char(10))",
             "UPDATE sumdb_log SET signed_head = :saved", "invalid signature", "signed tree head"),
        ]
        for t in tamperings {
            let saved = try await Self.sqlite(database, t.what == "a stored hash" ? "SELECT hash FROM sumdb_hashes WHERE id = 1"
                                                : "SELECT signed_head FROM sumdb_log")
            _ = try await Self.sqlite(database, t.sql)
            let fresh = client()
            try Data("module example.com/app\n\ngo 1.19\n".utf8).write(to: URL(fileURLWithPath: fresh.workDir + "/go.mod"))
            let caught = try await fresh.run(["mod", "download", "go.corp.test/lib@v1.0.0"])
            #expect(caught.status != 0 && (caught.stderr.contains("SECURITY ERROR") || caught.stderr.contains("verifying")),
                    "\(t.what): \(caught.stderr)")
            let xmod = try await SumDBClientTool.check(url: url, key: String(key), ["go.corp.test/lib@v1.0.0"])
            #expect(xmod.status != 0 && xmod.stdout.contains(t.xmod), "\(t.what): \(xmod.stdout) \(xmod.stderr)")
            let audited = try await WarrenBinary.run(["sumdb", "audit", "--data-dir", data, "--key", String(key)], environment: ["PATH": "/usr/bin:/bin"])
            #expect(audited.status == 1 && audited.stderr.contains(t.audit), "\(t.what): \(audited.stderr)")
            _ = try await Self.sqlite(database, t.restore, saved: saved)
            let healed = try await WarrenBinary.run(["sumdb", "audit", "--data-dir", data], environment: ["PATH": "/usr/bin:/bin"])
            #expect(healed.status == 0, "after \(t.what): \(healed.stderr)")
        }
    }

    /// A lookup that would make Warren fetch a version is refused to a caller who may not
    /// fetch, and passes through the policy like any request for the zip.
    @Test func lookupsFetchOnlyForCallersWhoMayAndOnlyWhatPolicyAllows() async throws {
        let fixture = ModuleFixture.shared
        let upstream = FaultyUpstream(root: fixture.root)
        try await upstream.start()
        defer { upstream.stop() }
        let scratch = ScratchDirectory()
        let data = scratch.path + "/data"
        let made = try await WarrenBinary.run(["sumdb", "init", "--name", Self.name, "--data-dir", data], environment: ["PATH": "/usr/bin:/bin"])
        #expect(made.status == 0, "\(made.stderr)")
        let db = try SumDBServer(root: fixture.root)
        defer { db.stop() }
        let common = ["--upstream", upstream.url, "--sumdb-log", "all", "--sumdb", db.verifierKey + " " + db.url]
        let readOnly = try await WarrenServerProcess.start(arguments: common + ["--anonymous", "read"], dataDir: data)
        let refused = try await HTTP.get(readOnly.url + "/sumdb/\(Self.name)/lookup/github.com/kr/text@v0.2.0")
        readOnly.stop()
        #expect(refused.status == 404, "\(refused.status) \(refused.text)")
        #expect(upstream.count("github.com/kr/text/@v/v0.2.0.zip") == 0)

        let withPolicy = try await WarrenServerProcess.start(arguments: common + ["--policy", #"deny github.com/kr/text < v0.2.1 "known bad""#],
                                                             dataDir: data)
        defer { withPolicy.stop() }
        let denied = try await HTTP.get(withPolicy.url + "/sumdb/\(Self.name)/lookup/github.com/kr/text@v0.2.0")
        #expect(denied.status == 403 && denied.text.contains("known bad"), "\(denied.status) \(denied.text)")
        #expect(upstream.count("github.com/kr/text/@v/v0.2.0.zip") == 0)
        // What the caller may fetch and policy allows is fetched, verified and recorded.
        let recorded = try await HTTP.get(withPolicy.url + "/sumdb/\(Self.name)/lookup/gopkg.in/yaml.v3@v3.0.1")
        let yaml = try #require(fixture.module("gopkg.in/yaml.v3", "v3.0.1"))
        #expect(recorded.status == 200 && recorded.text.contains("gopkg.in/yaml.v3 v3.0.1 \(yaml.zipHash)"), "\(recorded.status) \(recorded.text)")
        #expect(upstream.count("gopkg.in/yaml.v3/@v/v3.0.1.zip") == 1)
    }

    /// Runs one SQL statement on the SQLite file through Python's sqlite3 (another
    /// process, as an attacker with the file would); returns the first column of the
    /// first row, if any.
    static func sqlite(_ path: String, _ sql: String, saved: String = "") async throws -> String {
        let script = """
            import sqlite3, sys
            c = sqlite3.connect(sys.argv[1], timeout=30)
            rows = c.execute(sys.argv[2], {"saved": sys.argv[3]} if ":saved" in sys.argv[2] else ()).fetchall()
            c.commit()
            sys.stdout.write(str(rows[0][0]) if rows else "")
            """
        let r = try await ExternalCommand.run("/usr/bin/python3", ["-c", script, path, sql, saved], environment: ["PATH": "/usr/bin:/bin"])
        guard r.status == 0 else { throw SQLFailed(description: r.stderr) }
        return r.stdout
    }

    struct SQLFailed: Error, CustomStringConvertible { let description: String }
}
