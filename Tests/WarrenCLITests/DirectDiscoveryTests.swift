import Foundation
import GoModule
import Testing

/// `?go-get=1` discovery for vanity import paths, judged by the go command: both Warren
/// and `GOPROXY=direct` reach vanity.test through the same loopback HTTP proxy (a
/// company web server) and the same git rewrites, and must agree on every answer.
@Suite(.serialized) struct DirectDiscoveryTests {
    let git = GitFixture.shared

    /// go-import pages: a plain repository, a module in a subdirectory of a repository
    /// whose page names a shorter prefix, a redirect, a `mod` proxy, an hg repository,
    /// and two pages that disagree.
    func configure(_ vanity: VanityServer, modProxy: String) {
        vanity.setPage("lib", .meta([("vanity.test/lib", "git", "https://git.vanity.test/lib")]))
        vanity.setPage("tools", .meta([("vanity.test/tools", "git", "https://git.vanity.test/tools")]))
        vanity.setPage("tools/sub", .meta([("vanity.test/tools", "git", "https://git.vanity.test/tools")]))
        vanity.setPage("moved", .redirect("/moved-here?go-get=1"))
        vanity.setPage("moved-here", .meta([("vanity.test/moved", "git", "https://git.vanity.test/lib")]))
        vanity.setPage("proxied", .meta([("vanity.test/proxied", "mod", modProxy), ("vanity.test/proxied", "git", "https://git.vanity.test/none")]))
        vanity.setPage("hg", .meta([("vanity.test/hg", "hg", "https://hg.vanity.test/hg")]))
        vanity.setPage("claim/x", .meta([("vanity.test/claim", "git", "https://git.vanity.test/lib")]))
        vanity.setPage("claim", .meta([("vanity.test/claim", "git", "https://git.vanity.test/tools")]))
    }

    /// A GOPROXY tree holding vanity.test/proxied v1.0.0, for the `mod` tag.
    func makeModProxyTree() throws -> String {
        let root = FileManager.default.temporaryDirectory.path + "/warren-modproxy-\(getpid())"
        let src = root + "-src"
        try? FileManager.default.removeItem(atPath: root)
        try? FileManager.default.removeItem(atPath: src)
        try FileManager.default.createDirectory(atPath: src, withIntermediateDirectories: true)
        try "module vanity.test/proxied\n".write(toFile: src + "/go.mod", atomically: true, encoding: .utf8)
        try "package proxied\n".write(toFile: src + "/p.go", atomically: true, encoding: .utf8)
        let dir = root + "/vanity.test/proxied/@v"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "v1.0.0\n".write(toFile: dir + "/list", atomically: true, encoding: .utf8)
        try "{\"Version\":\"v1.0.0\",\"Time\":\"2023-01-01T00:00:00Z\"}".write(toFile: dir + "/v1.0.0.info", atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(atPath: src + "/go.mod", toPath: dir + "/v1.0.0.mod")
        do {
            let zip = try WritableFile(creating: dir + "/v1.0.0.zip")
            _ = try ModuleZipWriter.create(module: "vanity.test/proxied", version: "v1.0.0", directory: src, to: zip)
            try zip.sync()
        }
        return root
    }

    /// A vanity server with the standard pages, and the environment that routes to it.
    func startVanity(_ name: String) async throws -> (VanityServer, [String: String]) {
        let vanity = VanityServer(gitRoot: git.root + "/" + name)
        try await vanity.start()
        configure(vanity, modProxy: "http://127.0.0.1:1")
        return (vanity, ["HTTP_PROXY": vanity.proxyURL, "HTTPS_PROXY": vanity.proxyURL])
    }

    struct Outcome: Equatable, CustomStringConvertible {
        var ok: Bool
        var version = "", sum = "", goModSum = ""
        var description: String { ok ? "\(version) \(sum) \(goModSum)" : "error" }
    }

    func download(_ client: GoClient, _ target: String) async throws -> (Outcome, String) {
        let r = try await client.run(["mod", "download", "-json", target])
        guard r.status == 0, let json = try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any],
              json["Error"] == nil else { return (Outcome(ok: false), r.stdout + r.stderr) }
        return (Outcome(ok: true, version: json["Version"] as? String ?? "", sum: json["Sum"] as? String ?? "",
                        goModSum: json["GoModSum"] as? String ?? ""), "")
    }

    @Test func vanityPathsResolveAsTheGoCommandResolvesThem() async throws {
        let vanity = VanityServer(gitRoot: git.root + "/served")
        try await vanity.start()
        defer { vanity.stop() }
        let tree = try makeModProxyTree()
        let modProxy = FaultyUpstream(root: tree)
        try await modProxy.start()
        defer { modProxy.stop() }
        configure(vanity, modProxy: modProxy.url)

        let network = ["HTTP_PROXY": vanity.proxyURL, "HTTPS_PROXY": vanity.proxyURL, "NO_PROXY": ""]
        let warren = try await WarrenServerProcess.start(arguments: ["--upstream", "direct", "--insecure", "vanity.test"],
                                             environment: git.environment.merging(network) { $1 })
        defer { warren.stop() }
        let clientEnvironment = git.environment.merging(network) { $1 }.merging(["GOINSECURE": "vanity.test"]) { $1 }
        let direct = GoClient(proxy: "direct", environment: clientEnvironment)
        let proxied = GoClient(proxy: warren.url, environment: git.environment)

        let cases = [
            "vanity.test/lib@v1.0.0", "vanity.test/lib@latest", "vanity.test/lib@master",
            "vanity.test/tools/sub@v1.0.0", "vanity.test/tools/sub@latest",
            "vanity.test/moved@v1.1.0", "vanity.test/proxied@v1.0.0", "vanity.test/proxied@latest",
        ]
        for target in cases {
            let (expected, why) = try await download(direct, target)
            #expect(expected.ok, "go itself failed \(target): \(why)")
            let (got, whyNot) = try await download(proxied, target)
            #expect(got == expected, "\(target): warren \(got) \(whyNot), go \(expected)")
        }
        for module in ["vanity.test/lib", "vanity.test/tools/sub", "vanity.test/proxied"] {
            let mine = try await proxied.run(["list", "-m", "-versions", module]).stdout
            let theirs = try await direct.run(["list", "-m", "-versions", module]).stdout
            #expect(mine == theirs && !mine.isEmpty, "\(module): warren \(mine), go \(theirs)")
        }
        // The pseudo-version of the untagged head is the go command's too.
        let (head, _) = try await download(proxied, "vanity.test/lib@master")
        #expect(head.version.hasPrefix("v1.1.1-0.20230701000000-"), "\(head)")
        // The `mod` tag was followed to its proxy.
        #expect(modProxy.count("vanity.test/proxied/@v/v1.0.0.zip") >= 1)

        // Refusals: both fail, and Warren says why in one line.
        for target in ["vanity.test/hg@latest", "vanity.test/claim/x@latest", "vanity.test/nothing@latest"] {
            #expect(try await download(direct, target).0.ok == false, "go itself resolved \(target)")
            #expect(try await download(proxied, target).0.ok == false, "warren resolved \(target)")
        }
        let hg = try await HTTP.get(warren.url + "/vanity.test/hg/@v/list")
        #expect(hg.status == 404 && hg.text.contains("git only"), "\(hg.status) \(hg.text)")
        let claim = try await HTTP.get(warren.url + "/vanity.test/claim/x/@v/list")
        #expect(claim.status == 404 && claim.text.contains("disagree"), "\(claim.status) \(claim.text)")

        // Discovery answers are cached: Warren asked for the lib page over plain HTTP once.
        let warrenAsked = vanity.requests.filter { $0.agent.hasPrefix("Warren") && $0.target.hasPrefix("vanity.test/lib?") }
        #expect(warrenAsked.count == 1, "\(warrenAsked.map(\.target))")
    }

    @Test func discoveryIsSecureUnlessAHostIsMarkedInsecure() async throws {
        let (vanity, network) = try await startVanity("served-secure")
        defer { vanity.stop() }
        // Without --insecure only https:// is asked, and the proxy refuses TLS.
        let warren = try await WarrenServerProcess.start(arguments: ["--upstream", "direct"], environment: git.environment.merging(network) { $1 })
        defer { warren.stop() }
        let r = try await HTTP.get(warren.url + "/vanity.test/lib/@v/list")
        #expect(r.status == 404 && r.text.contains("unrecognized import path"), "\(r.status) \(r.text)")
        let plain = vanity.requests.filter { $0.agent.hasPrefix("Warren") && !$0.target.hasPrefix("CONNECT") }
        #expect(plain.isEmpty, "plain HTTP was used: \(plain.map(\.target))")
        #expect(vanity.requests.contains { $0.target.hasPrefix("CONNECT vanity.test:443") })
    }

    @Test func govcsRulesRefuseWithAReason() async throws {
        let (vanity, network) = try await startVanity("served-govcs")
        defer { vanity.stop() }
        let warren = try await WarrenServerProcess.start(
            arguments: ["--upstream", "direct", "--insecure", "vanity.test", "--govcs", "vanity.test/lib:off,github.com/wtest:git",
                        "--private", "github.com/kr"],
            environment: git.environment.merging(network) { $1 })
        defer { warren.stop() }
        let lib = try await HTTP.get(warren.url + "/vanity.test/lib/@v/list")
        #expect(lib.status == 403 && lib.text.contains("GOVCS disallows using git for public vanity.test/lib"), "\(lib.status) \(lib.text)")
        #expect(try await HTTP.get(warren.url + "/vanity.test/tools/sub/@v/list").status == 200)
        #expect(try await HTTP.get(warren.url + "/github.com/wtest/major/@v/list").status == 200)
        // private:all is the default for private modules.
        #expect(try await HTTP.get(warren.url + "/github.com/kr/text/@v/list").status == 200)
    }
}
