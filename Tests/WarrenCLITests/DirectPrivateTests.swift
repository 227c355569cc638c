import Foundation
import TestServers
import Testing

/// Private modules: never sent to an upstream proxy or a checksum database, fetched with
/// per-host credentials that never show up in answers or logs; and bad repositories
/// answered with the right status and one line, with nothing partial kept.
@Suite(.serialized) struct DirectPrivateTests {
    let git = GitFixture.shared
    static let secret = "s3cret-Token-42"

    @Test func privateModulesNeverReachAProxyNorTheChecksumDatabase() async throws {
        let fixture = ModuleFixture.shared
        let db = try SumDBServer(root: fixture.root)
        defer { db.stop() }
        let upstream = FaultyUpstream(root: fixture.root)
        try await upstream.start()
        defer { upstream.stop() }
        let warren = try await WarrenServerProcess.start(
            arguments: ["--upstream", upstream.url, "--sumdb", db.verifierKey + " " + db.url, "--private", "github.com/wtest,git.corp.test"],
            environment: git.environment)
        defer { warren.stop() }
        for path in ["github.com/wtest/multi/sub/@v/list", "github.com/wtest/multi/sub/@v/v1.0.0.info",
                     "github.com/wtest/multi/sub/@v/v1.0.0.mod", "github.com/wtest/multi/sub/@v/v1.0.0.zip", "github.com/wtest/major/@latest"] {
            let r = try await HTTP.get(warren.url + "/" + path)
            #expect(r.status == 200, "\(path): \(r.status) \(r.text)")
            #expect(upstream.count(path) == 0, "\(path) was asked of the upstream proxy")
        }
        // A public module still goes to the proxy and is verified.
        #expect(try await HTTP.get(warren.url + "/github.com/kr/text/@v/v0.2.0.mod").status == 200)
        #expect(upstream.count("github.com/kr/text/@v/v0.2.0.mod") == 1)
        let asked = db.requests
        #expect(asked.contains { $0.contains("github.com/kr/text") }, "the database was not used: \(asked)")
        #expect(!asked.contains { $0.contains("wtest") }, "a private module reached the checksum database: \(asked)")
        #expect(try await HTTP.get(warren.url + "/sumdb/\(db.verifierKey.split(separator: "+")[0])/lookup/github.com/wtest/multi/sub@v1.0.0").status == 403)
    }

    /// A git config that sends https://github.com/corp/secret to the authenticated
    /// server's copy of the repository.
    func gitConfig(_ vanity: VanityServer) throws -> [String: String] {
        let path = git.root + "/gitconfig-auth-\(vanity.port)"
        try "[url \"\(vanity.gitURL)/secret.git\"]\n\tinsteadOf = https://github.com/corp/secret\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        return ["GIT_CONFIG_GLOBAL": path, "GIT_CONFIG_NOSYSTEM": "1"]
    }

    @Test func credentialsReachGitAndNeverTheLogs() async throws {
        let vanity = VanityServer(gitRoot: git.root + "/served-auth", gitAuth: "alice:" + Self.secret)
        try await vanity.start()
        defer { vanity.stop() }
        try vanity.publish(bare: git.root + "/git.corp.test/secret.git", as: "secret")
        let home = git.root + "/home-\(vanity.port)"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let env = try gitConfig(vanity).merging(["HOME": home]) { $1 }
        let netrc = home + "/netrc"
        try "machine 127.0.0.1\n  login alice\n  password \(Self.secret)\n".write(toFile: netrc, atomically: true, encoding: .utf8)

        // No credentials: git is refused, the client gets a 403 and one line.
        let anonymous = try await WarrenServerProcess.start(arguments: ["--upstream", "direct", "--private", "github.com/corp"], environment: env)
        defer { anonymous.stop() }
        let refused = try await HTTP.get(anonymous.url + "/github.com/corp/secret/@v/list")
        #expect(refused.status == 403, "\(refused.status) \(refused.text)")
        #expect(refused.text.trimmingCharacters(in: .newlines).split(separator: "\n").count == 1, "\(refused.text)")

        // Credentials from the environment, and from a .netrc file.
        let byEnv = try await WarrenServerProcess.start(arguments: ["--upstream", "direct", "--private", "github.com/corp"],
                                            environment: env.merging(["WARREN_CREDENTIALS": "127.0.0.1:\(vanity.port)=alice:\(Self.secret)"]) { $1 })
        defer { byEnv.stop() }
        let byNetrc = try await WarrenServerProcess.start(arguments: ["--upstream", "direct", "--private", "github.com/corp", "--netrc", netrc],
                                              environment: env)
        defer { byNetrc.stop() }
        for warren in [byEnv, byNetrc] {
            let list = try await HTTP.get(warren.url + "/github.com/corp/secret/@v/list")
            #expect(list.status == 200 && list.text == "v1.0.0\n", "\(list.status) \(list.text)")
        }
        // A wrong password is a 403 too.
        let wrong = try await WarrenServerProcess.start(arguments: ["--upstream", "direct", "--private", "github.com/corp"],
                                            environment: env.merging(["WARREN_CREDENTIALS": "127.0.0.1:\(vanity.port)=alice:not-the-\(Self.secret)"]) { $1 })
        defer { wrong.stop() }
        let denied = try await HTTP.get(wrong.url + "/github.com/corp/secret/@v/list")
        #expect(denied.status == 403, "\(denied.status) \(denied.text)")
        // The go command, with the same .netrc for git, gets the same module.
        try FileManager.default.copyItem(atPath: netrc, toPath: home + "/.netrc")
        let direct = GoClient(proxy: "direct", environment: env.merging(["GOPRIVATE": "github.com/corp", "HOME": home]) { $1 })
        let theirs = try await direct.run(["mod", "download", "-json", "github.com/corp/secret@v1.0.0"])
        let mine = try await GoClient(proxy: byEnv.url).run(["mod", "download", "-json", "github.com/corp/secret@v1.0.0"])
        #expect(theirs.status == 0 && mine.status == 0, "\(theirs.stderr) \(mine.stderr)")
        #expect(Self.sum(theirs.stdout) == Self.sum(mine.stdout) && Self.sum(mine.stdout) != nil)

        // No secret is echoed anywhere.
        for text in [refused.text, denied.text, anonymous.stderr, byEnv.stderr, byNetrc.stderr, wrong.stderr] {
            #expect(!text.contains(Self.secret), "a secret leaked: \(text)")
        }
    }

    static func sum(_ json: String) -> String? {
        (try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])?["Sum"] as? String
    }

    @Test func badRepositoriesGetAClearAnswerAndNothingIsKept() async throws {
        // A repository whose host refuses connections, and one whose tree is too large.
        let work = git.root + "/work/huge"
        try? FileManager.default.removeItem(atPath: work)
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let bare = git.root + "/github.com/wtest/huge.git"
        try? FileManager.default.removeItem(atPath: bare)
        try Self.shell("""
            git init -q -b master . && printf 'module github.com/wtest/huge\\n' > go.mod && git add go.mod && \
            oid=$(head -c 525336577 /dev/zero | git -c core.compression=1 hash-object -w --stdin) && \
            git update-index --add --cacheinfo 100644,$oid,zeros.bin && \
            git -c user.name=t -c user.email=t@t commit -q -m huge && git tag v1.0.0 && \
            git clone -q --bare . '\(bare)'
            """, in: work)
        let config = git.root + "/gitconfig-bad"
        try ((try String(contentsOfFile: git.gitconfig, encoding: .utf8)) + """
            [url "file://\(bare)"]
            \tinsteadOf = https://github.com/wtest/huge
            [url "http://127.0.0.1:1/down.git"]
            \tinsteadOf = https://github.com/wtest/down
            """).write(toFile: config, atomically: true, encoding: .utf8)
        let warren = try await WarrenServerProcess.start(arguments: ["--upstream", "direct"],
                                             environment: ["GIT_CONFIG_GLOBAL": config, "GIT_CONFIG_NOSYSTEM": "1"])
        defer { warren.stop() }

        let down = try await HTTP.get(warren.url + "/github.com/wtest/down/@v/list")
        #expect(down.status == 502, "\(down.status) \(down.text)")
        #expect(down.text.contains("unable to access") && !down.text.contains("127.0.0.1:1"), "\(down.text)")

        let huge = try await HTTP.get(warren.url + "/github.com/wtest/huge/@v/v1.0.0.zip")
        #expect(huge.status == 404 && huge.text.contains("too large"), "\(huge.status) \(huge.text)")
        #expect(try await HTTP.get(warren.url + "/github.com/wtest/huge/@v/v1.0.0.mod").status == 200)

        let noModuleLine = try await HTTP.get(warren.url + "/github.com/wtest/badmod/@v/v1.1.0.mod")
        #expect(noModuleLine.status == 404 && noModuleLine.text.contains("missing module path"), "\(noModuleLine.status) \(noModuleLine.text)")
        #expect(try await HTTP.get(warren.url + "/github.com/wtest/badmod/@v/v1.1.0.info").status == 404)

        // Nothing of the refused versions was stored, and no scratch file is left.
        let stored = FileManager.default.enumerator(atPath: warren.dataDir + "/modules")?.compactMap { $0 as? String } ?? []
        #expect(!stored.contains { $0.contains("huge") && $0.hasSuffix(".zip") }, "\(stored)")
        #expect(!stored.contains { $0.contains("badmod") && $0.contains("v1.1.0") }, "\(stored)")
        #expect((try? FileManager.default.contentsOfDirectory(atPath: warren.dataDir + "/vcs-tmp")) == [])
    }

    static func shell(_ script: String, in dir: String) throws {
        let result = try TestProcess.run("/bin/sh", ["-c", script], environment: ["PATH": "/usr/bin:/bin", "HOME": dir, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null"], directory: dir)
        guard result.status == 0 else { throw GitFixture.GitFailed(description: "sh: \(script) failed") }
    }
}
