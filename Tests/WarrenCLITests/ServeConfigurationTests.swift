import Foundation
import Testing

/// Settings precedence (flags > WARREN_* > YAML > defaults), start-up errors that name
/// the key, and the documented flags.
@Suite struct ServeConfigurationTests {
    func writeConfig(_ yaml: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.path + "/warren-\(UUID().uuidString).yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func precedence() async throws {
        let config = try writeConfig("list-ttl: 10s\npath-prefix: /from-file\nretries: 1\n")
        defer { try? FileManager.default.removeItem(atPath: config) }
        // File alone.
        let a = try await WarrenServerProcess.start(arguments: ["--config", config, "--upstream", "off"])
        defer { a.stop() }
        #expect(try await HTTP.get(a.url + "/from-file/example.com/m/@v/list").status == 403)
        // Environment beats the file.
        let b = try await WarrenServerProcess.start(arguments: ["--config", config, "--upstream", "off"], environment: ["WARREN_PATH_PREFIX": "/from-env"])
        defer { b.stop() }
        #expect(try await HTTP.get(b.url + "/from-env/example.com/m/@v/list").status == 403)
        #expect(try await HTTP.get(b.url + "/from-file/example.com/m/@v/list").status == 404)
        // Flags beat both; WARREN_CONFIG names the file too.
        let c = try await WarrenServerProcess.start(arguments: ["--path-prefix", "/from-flag", "--upstream", "off"],
                                        environment: ["WARREN_CONFIG": config, "WARREN_PATH_PREFIX": "/from-env"])
        defer { c.stop() }
        #expect(try await HTTP.get(c.url + "/from-flag/example.com/m/@v/list").status == 403)
    }

    @Test(arguments: [
        ("--list-ttl", "soon", "invalid list-ttl \"soon\" (from --list-ttl)"),
        ("--upstream", "ftp://x", "invalid upstream \"ftp://x\" (from --upstream)"),
        ("--listen", "nowhere", "invalid listen \"nowhere\" (from --listen)"),
        ("--retries", "11", "invalid retries \"11\" (from --retries)"),
        ("--sumdb", "sum.golang.org+00000000+AAAA", "invalid sumdb \"sum.golang.org+00000000+AAAA\" (from --sumdb)"),
        ("--sumdb", "sum.golang.org ftp://", "invalid sumdb"),
        ("--govcs", "public:git|off", "invalid govcs \"public:git|off\" (from --govcs): malformed entry"),
        ("--govcs", "nocolon", "invalid govcs"),
        ("--credentials", "git.corp.example.com:secret-token", "invalid credentials (value hidden) (from --credentials): want HOST=USER:PASSWORD or HOST=TOKEN"),
        ("--private", "[bad", "invalid private \"[bad\" (from --private): malformed pattern"),
    ])
    func badFlagsFailAtStart(flag: String, value: String, message: String) throws {
        let r = try WarrenBinary.run(["serve", flag, value, "--data-dir", FileManager.default.temporaryDirectory.path + "/warren-never"])
        #expect(r.status == 2)
        #expect(r.stderr.contains(message), "\(r.stderr)")
    }

    @Test func badConfigFileNamesTheKey() throws {
        let unknown = try writeConfig("list_tll: 5s\n")
        defer { try? FileManager.default.removeItem(atPath: unknown) }
        let r = try WarrenBinary.run(["serve", "--config", unknown])
        #expect(r.status == 2)
        #expect(r.stderr.contains("unknown key \"list_tll\""), "\(r.stderr)")
        let badValue = try writeConfig("memory-cache: lots\n")
        defer { try? FileManager.default.removeItem(atPath: badValue) }
        let v = try WarrenBinary.run(["serve", "--config", badValue])
        #expect(v.status == 2)
        #expect(v.stderr.contains("invalid memory-cache \"lots\" (from \(badValue): memory-cache)"), "\(v.stderr)")
        let env = try WarrenBinary.run(["serve", "--config", "/nonexistent/warren.yaml"])
        #expect(env.status == 2)
        #expect(env.stderr.contains("cannot read config file /nonexistent/warren.yaml"))
    }

    @Test func helpDocumentsEveryOption() throws {
        let r = try WarrenBinary.run(["serve", "--help"])
        #expect(r.status == 0)
        for flag in ["--listen", "--upstream", "--data-dir", "--config", "--list-ttl", "--path-prefix", "--connect-timeout",
                     "--header-timeout", "--total-timeout", "--retries", "--memory-cache", "--log-level", "--log-format",
                     "--sumdb", "--nosumdb"] {
            #expect(r.stdout.contains(flag), "serve --help lacks \(flag)")
        }
    }

    /// By default modules are verified against sum.golang.org, which is proxied under
    /// its own name and its Chinese alias.
    @Test func sumGolangOrgByDefault() async throws {
        let warren = try await WarrenServerProcess.start(arguments: ["--upstream", "off"], defaultSumDB: true)
        defer { warren.stop() }
        #expect(warren.stderr.contains("verifying modules against a checksum database database=sum.golang.org"), "\(warren.stderr)")
        #expect(try await HTTP.get(warren.url + "/sumdb/sum.golang.org/supported").status == 200)
        #expect(try await HTTP.get(warren.url + "/sumdb/sum.golang.google.cn/supported").status == 200)
        #expect(try await HTTP.get(warren.url + "/sumdb/sum.example.com/supported").status == 404)
    }

    /// Several databases, from a YAML list.
    @Test func sumdbListInYAML() async throws {
        let own = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
        let config = try writeConfig("sumdb:\n  - \"\(own) http://127.0.0.1:9\"\n  - sum.golang.org\nnosumdb: corp.example.com\n")
        defer { try? FileManager.default.removeItem(atPath: config) }
        let warren = try await WarrenServerProcess.start(arguments: ["--upstream", "off", "--config", config], defaultSumDB: true)
        defer { warren.stop() }
        #expect(warren.stderr.contains("database=PeterNeumann"), "the first verifies: \(warren.stderr)")
        #expect(warren.stderr.contains("nosumdb=corp.example.com"), "\(warren.stderr)")
        #expect(try await HTTP.get(warren.url + "/sumdb/PeterNeumann/supported").status == 200)
        #expect(try await HTTP.get(warren.url + "/sumdb/sum.golang.org/supported").status == 200)
    }
}
