import Foundation
import TestServers
import Testing

/// Hosted modules end to end, over TLS, with `warren publish` and the real go command:
/// publishing from a directory and from git, immutability, the checks every upload
/// passes, retractions and `@latest`, deletion with a tombstone, Gitea's upload shape,
/// `?go-get=1`, and an upstream offering a module under the hosted namespace (dependency
/// confusion) that never reaches a client.
@Suite struct PublishTests {
    static let namespace = "go.corp.example.com"

    /// A Warren with a hosted namespace, a confusing upstream, and its tokens.
    struct Site {
        let ca: TestCertificateAuthority
        let warren: WarrenServerProcess
        let scratch = ScratchDirectory()
        let ci: String, dev: String, admin: String
        var url: String { "https://127.0.0.1:\(warren.port)" }

        /// `.netrc` naming `token` for 127.0.0.1 and go.corp.example.com.
        func netrc(_ token: String) throws -> String {
            let path = scratch.path + "/netrc-\(UUID().uuidString)"
            try Data("machine 127.0.0.1 login x password \(token)\nmachine \(PublishTests.namespace) login x password \(token)\n".utf8)
                .write(to: URL(fileURLWithPath: path))
            return path
        }

        /// `warren publish ARGS --to URL` with the token's .netrc.
        func publish(_ arguments: [String], token: String?, in directory: String? = nil) async throws -> WarrenBinary.Output {
            var environment = ["PATH": "/usr/bin:/bin", "HOME": scratch.path]
            environment["NETRC"] = try token.map(netrc) ?? "/dev/null"
            return try await WarrenBinary.run(["publish"] + arguments + ["--to", url, "--ca-file", ca.certificatePath],
                                              environment: environment, in: directory)
        }

        /// The go command trusting the test CA, with `.netrc` for the token.
        func go(token: String, environment: [String: String] = [:]) throws -> GoClient {
            let client = GoClient(proxy: url, environment: ["SSL_CERT_FILE": ca.certificatePath].merging(environment) { _, new in new })
            try FileManager.default.copyItem(atPath: try netrc(token), toPath: client.home + "/.netrc")
            return client
        }

        /// curl with the token; returns the status and the body.
        func curl(_ arguments: [String], token: String?) async throws -> (status: Int, body: String) {
            var args = ["-sS", "--cacert", ca.certificatePath, "-w", "\n%{http_code}"]
            if let token { args += ["-u", "x:" + token] }
            let r = try await ExternalCommand.run("/usr/bin/curl", args + arguments, environment: ["PATH": "/usr/bin:/bin"])
            let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false)
            return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
        }
    }

    static func token(_ warren: WarrenServerProcess, _ user: String) async throws -> String {
        let dataDir = warren.dataDir
        let r = try await offThread { try WarrenBinary.run(["token", "create", "--data-dir", dataDir, "--user", user]) }
        #expect(r.status == 0, "\(r.stderr)")
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Writes a module directory: go.mod (with `extra` lines) and a package whose Hello
    /// returns `greeting`.
    static func writeModule(_ dir: String, module: String, greeting: String, extra: String = "") throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Data("module \(module)\n\ngo 1.19\n\(extra)".utf8).write(to: URL(fileURLWithPath: dir + "/go.mod"))
        let name = module.split(separator: "/").last.map(String.init) ?? "lib"
        try Data("package \(name)\n\nfunc Hello() string { return \"\(greeting)\" }\n".utf8).write(to: URL(fileURLWithPath: dir + "/\(name).go"))
    }

    /// A GOPROXY file tree offering go.corp.example.com/lib@v1.9.9: the dependency
    /// confusion attempt.
    static func confusingUpstream(_ root: String) throws {
        let source = root + "/src"
        try writeModule(source, module: namespace + "/lib", greeting: "evil")
        let dir = root + "/tree/\(namespace)/lib/@v"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let zipped = try WarrenBinary.run(["mod", "zip", source, "\(namespace)/lib@v1.9.9", dir + "/v1.9.9.zip"])
        #expect(zipped.status == 0, "\(zipped.stderr)")
        try FileManager.default.copyItem(atPath: source + "/go.mod", toPath: dir + "/v1.9.9.mod")
        try Data("{\"Version\":\"v1.9.9\",\"Time\":\"2030-01-01T00:00:00Z\"}".utf8).write(to: URL(fileURLWithPath: dir + "/v1.9.9.info"))
        try Data("v1.9.9\n".utf8).write(to: URL(fileURLWithPath: dir + "/list"))
        try Data("{\"Version\":\"v1.9.9\",\"Time\":\"2030-01-01T00:00:00Z\"}".utf8)
            .write(to: URL(fileURLWithPath: root + "/tree/\(namespace)/lib/@latest"))
    }

    static func startSite(extra: [String] = []) async throws -> Site {
        let ca = try await offThread { try TestCertificateAuthority() }
        let certificate = ca.directory + "/server.pem", key = ca.directory + "/server.key"
        try await offThread { try ca.issue(commonName: "warren", certificate: certificate, key: key, names: [namespace]) }
        let upstream = ca.directory + "/upstream"
        try await offThread { try confusingUpstream(upstream) }
        let warren = try await WarrenServerProcess.start(arguments: [
            "--upstream", "file://\(upstream)/tree", "--tls-cert", certificate, "--tls-key", key,
            "--audit-log", ca.directory + "/audit.log", "--hosted", "\(namespace)/*",
            "--permissions", "user:ci publish \(namespace)/*; authenticated read \(namespace)/*; user:root admin *",
        ] + extra)
        return Site(ca: ca, warren: warren, ci: try await token(warren, "ci"), dev: try await token(warren, "dev"),
                    admin: try await token(warren, "root"))
    }

    @Test func publishedVersionsReachTheGoCommandAndNeverChange() async throws {
        let site = try await Self.startSite()
        defer { site.warren.stop() }
        let lib = site.scratch.path + "/lib"
        try Self.writeModule(lib, module: Self.namespace + "/lib", greeting: "hosted v1.0.0")

        // Publish from a directory; the identical zip again is fine; other bytes are not.
        let first = try await site.publish([lib, "\(Self.namespace)/lib@v1.0.0"], token: site.ci)
        #expect(first.status == 0 && first.stdout.contains("published \(Self.namespace)/lib@v1.0.0"), "\(first.stdout) \(first.stderr)")
        let again = try await site.publish([lib, "\(Self.namespace)/lib@v1.0.0"], token: site.ci)
        #expect(again.status == 0 && again.stdout.contains("already published"), "\(again.stdout) \(again.stderr)")
        try Self.writeModule(lib, module: Self.namespace + "/lib", greeting: "changed after publishing")
        let changed = try await site.publish([lib, "\(Self.namespace)/lib@v1.0.0"], token: site.ci)
        #expect(changed.status != 0 && changed.stderr.contains("409") && changed.stderr.contains("published versions never change"),
                "\(changed.stderr)")
        // Without the publish right: a reader is refused, and so is no token at all.
        let reader = try await site.publish([lib, "\(Self.namespace)/lib@v1.0.1"], token: site.dev)
        #expect(reader.status != 0 && reader.stderr.contains("403") && reader.stderr.contains("dev may not publish"), "\(reader.stderr)")
        let nobody = try await site.publish([lib, "\(Self.namespace)/lib@v1.0.1"], token: nil)
        #expect(nobody.status != 0 && nobody.stderr.contains("401"), "\(nobody.stderr)")

        // The go command, from a clean cache, gets the published code, never the
        // upstream's v1.9.9 under the same name.
        let go = try site.go(token: site.dev)
        try Data("module example.com/app\n\ngo 1.19\n".utf8).write(to: URL(fileURLWithPath: go.workDir + "/go.mod"))
        try Data("package main\n\nimport (\n\t\"fmt\"\n\t\"\(Self.namespace)/lib\"\n)\n\nfunc main() { fmt.Println(lib.Hello()) }\n".utf8)
            .write(to: URL(fileURLWithPath: go.workDir + "/main.go"))
        let get = try await go.run(["get", "\(Self.namespace)/lib@latest"])
        #expect(get.status == 0 && get.stderr.contains("\(Self.namespace)/lib v1.0.0"), "\(get.stderr)")
        let run = try await go.run(["run", "."])
        #expect(run.stdout == "hosted v1.0.0\n", "\(run.stdout) \(run.stderr)")
        let versions = try await go.run(["list", "-m", "-versions", "\(Self.namespace)/lib"])
        #expect(versions.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "\(Self.namespace)/lib v1.0.0", "\(versions.stdout)")
        let confused = try await site.curl(["\(site.url)/\(Self.namespace)/lib/@v/v1.9.9.info"], token: site.dev)
        #expect(confused.status == 404 && confused.body.contains("not published here"), "\(confused)")
        let verify = try await go.run(["mod", "verify"])
        #expect(verify.status == 0, "\(verify.stderr)")
        // The go.sum line is the hash warren publish printed.
        let sum = try String(contentsOfFile: go.workDir + "/go.sum", encoding: .utf8)
        let built = first.stdout.split(separator: "\n").first { $0.hasPrefix("built ") }.map { String($0.split(separator: " ").last ?? "") } ?? "?"
        #expect(sum.contains("\(Self.namespace)/lib v1.0.0 \(built)"), "\(sum) vs \(first.stdout)")
    }

    @Test func everyUploadIsCheckedBeforeAnythingIsStored() async throws {
        let site = try await Self.startSite()
        defer { site.warren.stop() }
        let dir = site.scratch.path
        try Self.writeModule(dir + "/good", module: Self.namespace + "/good", greeting: "good")
        try Self.writeModule(dir + "/liar", module: Self.namespace + "/other", greeting: "liar")
        try Self.writeModule(dir + "/public", module: "github.com/someone/public", greeting: "public")
        for (source, target, zip) in [("good", "\(Self.namespace)/good@v1.0.0", "good.zip"), ("liar", "\(Self.namespace)/liar@v1.0.0", "liar.zip"),
                                      ("public", "github.com/someone/public@v1.0.0", "public.zip"),
                                      ("good", "\(Self.namespace)/good@v2.0.0+incompatible", "incompatible.zip")] {
            // `warren mod zip` builds by the rules alone; the server judges the content.
            let r = try await offThread { try WarrenBinary.run(["mod", "zip", dir + "/" + source, target, dir + "/" + zip]) }
            #expect(r.status == 0, "\(r.stderr)")
        }
        try Data("this is not a zip".utf8).write(to: URL(fileURLWithPath: dir + "/junk.zip"))
        let api = site.url + "/api/v1/modules/"
        func put(_ file: String, _ path: String, token: String? = nil) async throws -> (status: Int, body: String) {
            try await site.curl(["-X", "PUT", "--data-binary", "@" + dir + "/" + file, api + path], token: token ?? site.ci)
        }
        let cases: [(file: String, path: String, status: Int, says: String)] = [
            ("good.zip", "\(Self.namespace)/good/@v/v1.0.1.zip", 400, "the zip holds \(Self.namespace)/good@v1.0.0, not \(Self.namespace)/good@v1.0.1"),
            ("good.zip", "\(Self.namespace)/good/@v/v1.0.zip", 400, "not canonical"),
            ("liar.zip", "\(Self.namespace)/liar/@v/v1.0.0.zip", 400, "go.mod declares module \(Self.namespace)/other, not \(Self.namespace)/liar"),
            ("incompatible.zip", "\(Self.namespace)/good/@v/v2.0.0+incompatible.zip", 400, "cannot have a go.mod file"),
            ("junk.zip", "\(Self.namespace)/good/@v/v1.0.0.zip", 400, "not a zip file"),
            ("public.zip", "github.com/someone/public/@v/v1.0.0.zip", 403, "ci may not publish github.com/someone/public"),
        ]
        for c in cases {
            let answer = try await put(c.file, c.path)
            #expect(answer.status == c.status && answer.body.contains(c.says), "\(c.path): \(answer)")
        }
        // Nothing of the refused uploads was stored or listed, and no upload file is left.
        for module in ["good", "liar"] {
            let list = try await site.curl(["\(site.url)/\(Self.namespace)/\(module)/@v/list"], token: site.dev)
            #expect(list.status == 200 && list.body.isEmpty, "\(module): \(list)")
        }
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: site.warren.dataDir + "/.uploads")) ?? []
        #expect(leftovers.isEmpty, "\(leftovers)")

        // Gitea's upload shape: the module and version come from the zip.
        let gitea = try await site.curl(["-X", "PUT", "--upload-file", dir + "/good.zip", site.url + "/api/packages/corp/go/upload"], token: site.ci)
        #expect(gitea.status == 201 && gitea.body.contains("\"version\":\"v1.0.0\""), "\(gitea)")
        let info = try await site.curl(["\(site.url)/\(Self.namespace)/good/@v/v1.0.0.info"], token: site.dev)
        #expect(info.status == 200 && info.body.contains("\"Version\":\"v1.0.0\""), "\(info)")
        // Every refusal is in the audit log, with who tried.
        let audit = try String(contentsOfFile: site.ca.directory + "/audit.log", encoding: .utf8)
        #expect(audit.contains("\"action\":\"module.publish\"") && audit.contains("\"result\":\"refused\"") && audit.contains("\"result\":\"denied\""),
                "\(audit)")
    }

    @Test func racingPublishesOfOneVersionStoreExactlyOne() async throws {
        let site = try await Self.startSite()
        defer { site.warren.stop() }
        let dir = site.scratch.path, module = Self.namespace + "/race"
        let contenders = 6
        for i in 0..<contenders {
            try Self.writeModule(dir + "/src\(i)", module: module, greeting: "contender \(i)")
            let r = try await offThread { try WarrenBinary.run(["mod", "zip", dir + "/src\(i)", module + "@v1.0.0", dir + "/\(i).zip"]) }
            #expect(r.status == 0, "\(r.stderr)")
        }
        let answers = try await withThrowingTaskGroup(of: (status: Int, body: String).self) { group in
            for i in 0..<contenders {
                group.addTask {
                    try await site.curl(["-X", "PUT", "--data-binary", "@\(dir)/\(i).zip", "\(site.url)/api/v1/modules/\(module)/@v/v1.0.0.zip"],
                                        token: site.ci)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let won = answers.filter { $0.status == 201 }
        #expect(won.count == 1 && answers.filter { $0.status == 409 }.count == contenders - 1, "\(answers)")
        // What is served is the winner's zip.
        let go = try site.go(token: site.dev)
        let download = try await go.run(["mod", "download", "-json", module + "@v1.0.0"])
        let winner = won.first?.body ?? ""
        let sum = download.stdout.split(separator: "\n").first { $0.contains("\"Sum\"") }.map(String.init) ?? "?"
        let hash = sum.split(separator: "\"").dropLast().last.map(String.init) ?? "?"
        #expect(download.status == 0 && winner.contains(hash), "\(download.stdout) \(download.stderr) vs \(winner)")
    }

    @Test func retractionsLatestAndDeletionFollowTheGoCommandsRules() async throws {
        let site = try await Self.startSite()
        defer { site.warren.stop() }
        let lib = site.scratch.path + "/lib"
        let module = Self.namespace + "/lib"
        for (version, extra) in [("v1.0.0", ""), ("v1.1.0", ""), ("v1.2.0", "\nretract (\n\tv1.2.0 // published by mistake\n\tv1.1.0 // broken\n)\n")] {
            try Self.writeModule(lib, module: module, greeting: "hosted \(version)", extra: extra)
            let r = try await site.publish([lib, "\(module)@\(version)"], token: site.ci)
            #expect(r.status == 0, "\(r.stderr)")
        }
        // Listed, all three; @latest skips the retracted ones, as the go command does.
        let list = try await site.curl(["\(site.url)/\(module)/@v/list"], token: site.dev)
        #expect(list.body == "v1.0.0\nv1.1.0\nv1.2.0\n", "\(list)")
        let latest = try await site.curl(["\(site.url)/\(module)/@latest"], token: site.dev)
        #expect(latest.body.contains("\"Version\":\"v1.0.0\""), "\(latest)")
        let go = try site.go(token: site.dev)
        try Data("module example.com/app\n\ngo 1.19\n".utf8).write(to: URL(fileURLWithPath: go.workDir + "/go.mod"))
        let get = try await go.run(["get", "\(module)@latest"])
        #expect(get.status == 0 && get.stderr.contains("\(module) v1.0.0"), "\(get.stderr)")
        let retracted = try await go.run(["list", "-m", "-retracted", "-versions", module])
        #expect(retracted.stdout.contains("v1.1.0") && retracted.stdout.contains("v1.2.0"), "\(retracted.stdout)")

        // Deleting is for admins; it leaves a tombstone.
        let byCI = try await site.curl(["-X", "DELETE", "\(site.url)/api/v1/modules/\(module)/@v/v1.1.0"], token: site.ci)
        #expect(byCI.status == 403, "\(byCI)")
        let deleted = try await site.curl(["-X", "DELETE", "\(site.url)/api/v1/modules/\(module)/@v/v1.1.0?reason=leaked%20a%20key"],
                                          token: site.admin)
        #expect(deleted.status == 204, "\(deleted)")
        let gone = try await site.curl(["\(site.url)/\(module)/@v/v1.1.0.zip"], token: site.dev)
        #expect(gone.status == 410 && gone.body.contains("was deleted: leaked a key"), "\(gone)")
        let after = try await site.curl(["\(site.url)/\(module)/@v/list"], token: site.dev)
        #expect(after.body == "v1.0.0\nv1.2.0\n", "\(after)")
        // The version never comes back with other bytes; with its own, it may.
        try Self.writeModule(lib, module: module, greeting: "a different v1.1.0")
        let back = try await site.publish([lib, "\(module)@v1.1.0"], token: site.ci)
        #expect(back.status != 0 && back.stderr.contains("409") && back.stderr.contains("was deleted"), "\(back.stderr)")
        try Self.writeModule(lib, module: module, greeting: "hosted v1.1.0")
        let restored = try await site.publish([lib, "\(module)@v1.1.0"], token: site.ci)
        #expect(restored.status == 0, "\(restored.stderr)")
    }

    @Test func gitVersionsAreTheGoCommandsAndGoGetFindsWarrenByName() async throws {
        let site = try await Self.startSite(extra: ["--public-url", "https://\(Self.namespace)"])
        defer { site.warren.stop() }
        // A repository with a tagged commit and an untagged one after it.
        let repo = site.scratch.path + "/tool"
        let git = GitFixture.shared
        try Self.writeModule(repo, module: Self.namespace + "/tool", greeting: "tagged")
        try git.git(["init", "-q", "-b", "main"], in: repo)
        try git.git(["add", "-A"], in: repo)
        try git.git(["commit", "-q", "-m", "first"], in: repo, date: "2024-03-04T05:06:07Z")
        try git.git(["tag", "v0.2.0"], in: repo)
        try Self.writeModule(repo, module: Self.namespace + "/tool", greeting: "untagged")
        try git.git(["commit", "-q", "-am", "second"], in: repo, date: "2024-05-06T07:08:09Z")

        let tagged = try await site.publish(["--git", "v0.2.0"], token: site.ci, in: repo)
        #expect(tagged.status == 0 && tagged.stdout.contains("published \(Self.namespace)/tool@v0.2.0"), "\(tagged.stdout) \(tagged.stderr)")
        let head = try await site.publish(["--git"], token: site.ci, in: repo)
        let commit = try await ExternalCommand.run("/usr/bin/git", ["rev-parse", "HEAD"], environment: ["PATH": "/usr/bin:/bin"], in: repo)
            .stdout.prefix(12)
        let pseudo = "v0.2.1-0.20240506070809-\(commit)"
        #expect(head.status == 0 && head.stdout.contains("published \(Self.namespace)/tool@\(pseudo)"), "\(head.stdout) \(head.stderr)")
        let info = try await site.curl(["\(site.url)/\(Self.namespace)/tool/@v/\(pseudo).info"], token: site.dev)
        #expect(info.body.contains("\"Time\":\"2024-05-06T07:08:09Z\""), "\(info)")

        // ?go-get=1 names Warren as the module's `mod` server.
        let meta = try await site.curl(["\(site.url)/\(Self.namespace)/tool/cmd?go-get=1"], token: site.dev)
        #expect(meta.body.contains("<meta name=\"go-import\" content=\"\(Self.namespace)/tool mod https://\(Self.namespace)\">"), "\(meta)")
        // With no proxy at all (GOPROXY=direct), the go command finds Warren by the
        // module's name: every name leads to loopback through the forward proxy.
        let forward = try await offThread { try ForwardProxy(connectPort: site.warren.port) }
        let go = try site.go(token: site.dev, environment: ["GOPROXY": "direct", "HTTPS_PROXY": forward.url, "GOPRIVATE": Self.namespace])
        try Data("module example.com/app\n\ngo 1.19\n".utf8).write(to: URL(fileURLWithPath: go.workDir + "/go.mod"))
        let get = try await go.run(["get", "\(Self.namespace)/tool@v0.2.0"])
        #expect(get.status == 0 && get.stderr.contains("\(Self.namespace)/tool v0.2.0"), "\(get.stderr)")
        #expect(forward.requests.contains("CONNECT \(Self.namespace):443"), "\(forward.requests)")
    }
}
