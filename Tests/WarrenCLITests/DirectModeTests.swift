import Foundation
import Testing

/// Direct mode judged by the go command itself: for every tagged version, `latest`, a
/// branch and a commit prefix of repositories built from real module sources, the go
/// command through `warren serve --upstream direct` reports exactly what it reports with
/// `GOPROXY=direct` on the same repositories (Version, Sum, GoModSum, version lists).
@Suite(.serialized) struct DirectModeTests {
    let git = GitFixture.shared

    /// (module, queries) — every kind of case the go command distinguishes.
    static let cases: [(String, [String])] = [
        ("github.com/kr/text", ["v0.1.0", "v0.2.0", "latest", "master"]),
        ("github.com/wtest/multi/sub", ["v1.0.0", "latest", "master"]),
        ("github.com/wtest/major", ["v1.0.0", "latest", "v2.0.0"]),
        ("github.com/wtest/major/v2", ["v2.0.0", "latest", "master"]),
        ("github.com/dgrijalva/jwt-go", ["v3.1.0+incompatible", "v3.2.0+incompatible", "latest", "master"]),
        ("github.com/wtest/badmod", ["v1.0.0", "v1.1.0", "v1.2.0", "latest"]),
        ("github.com/wtest/big", ["v1.0.0"]),
    ]

    /// The queries the go command itself must refuse.
    static let mustFail: Set<String> = ["github.com/wtest/major@v2.0.0", "github.com/wtest/badmod@v1.1.0"]

    struct Outcome: Equatable, CustomStringConvertible {
        var ok: Bool
        var version = "", sum = "", goModSum = ""
        var description: String { ok ? "\(version) \(sum) \(goModSum)" : "error" }
    }

    /// `go mod download -json MOD@QUERY` in a fresh module cache.
    func download(_ client: GoClient, _ module: String, _ query: String) async throws -> Outcome {
        let r = try await client.run(["mod", "download", "-json", module + "@" + query])
        guard r.status == 0, let json = try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any],
              json["Error"] == nil else { return Outcome(ok: false) }
        return Outcome(ok: true, version: json["Version"] as? String ?? "", sum: json["Sum"] as? String ?? "",
                       goModSum: json["GoModSum"] as? String ?? "")
    }

    func versions(_ client: GoClient, _ module: String) async throws -> String {
        let r = try await client.run(["list", "-m", "-versions", module])
        return r.status == 0 ? r.stdout : "error"
    }

    @Test func theGoCommandSeesWhatDirectModeGivesIt() async throws {
        let warren = try await WarrenServerProcess.start(arguments: ["--upstream", "direct"], environment: git.environment)
        defer { warren.stop() }
        let direct = GoClient(proxy: "direct", environment: git.environment)
        let proxied = GoClient(proxy: warren.url, environment: git.environment)
        var compared = 0
        for (module, queries) in Self.cases {
            for q in queries {
                let expected = try await download(direct, module, q)
                // Every query resolves, except the one that must fail (checked below).
                #expect(expected.ok != Self.mustFail.contains(module + "@" + q), "go itself: \(module)@\(q) \(expected)")
                let got = try await download(proxied, module, q)
                #expect(got == expected, "\(module)@\(q): warren \(got), go \(expected)")
                compared += 1
            }
            #expect(try await versions(proxied, module) == (try await versions(direct, module)), "\(module) versions")
        }
        #expect(compared == 22)
        // The untagged head of kr/text is a pseudo-version after v0.2.0, and a commit
        // prefix resolves to the same one.
        let head = try await download(proxied, "github.com/kr/text", "master")
        #expect(head.version.hasPrefix("v0.2.1-0.20210304123045-"), "\(head)")
        let prefix = String(head.version.suffix(12).prefix(8))
        #expect(try await download(proxied, "github.com/kr/text", prefix) == head)
        // A major-version mismatch must fail through Warren as it does directly.
        #expect(try await download(proxied, "github.com/wtest/major", "v2.0.0").ok == false)
    }

    @Test func subdirectoryModulesGetTheRootLicense() async throws {
        let warren = try await WarrenServerProcess.start(arguments: ["--upstream", "direct"], environment: git.environment)
        defer { warren.stop() }
        let zip = try await HTTP.get(warren.url + "/github.com/wtest/multi/sub/@v/v1.0.0.zip")
        #expect(zip.status == 200)
        let names = ZipNames.list(zip.body)
        #expect(names.contains("github.com/wtest/multi/sub@v1.0.0/LICENSE"), "\(names)")
        #expect(names.contains("github.com/wtest/multi/sub@v1.0.0/crlf.txt"))
        #expect(!names.contains { $0.contains("root.go") })
        let info = try await HTTP.get(warren.url + "/github.com/wtest/multi/sub/@v/v1.0.0.info")
        #expect(info.text.contains("\"Subdir\":\"sub\"") && info.text.contains("\"Ref\":\"refs/tags/sub/v1.0.0\""), "\(info.text)")
        #expect(info.text.contains("\"Time\":\"2022-05-06T07:08:09Z\""), "\(info.text)")
    }

    /// The go command asks for every `.info` and `.mod` before any zip: once direct mode
    /// has answered a `.info`, the zip is built without being asked for, and the client's
    /// request is then a cache hit. `--direct-prefetch off` builds nothing unasked.
    @Test func aResolvedVersionsZipIsBuiltBeforeItIsAskedFor() async throws {
        let warren = try await WarrenServerProcess.start(arguments: ["--upstream", "direct"], environment: git.environment)
        defer { warren.stop() }
        let zipPath = warren.dataDir + "/modules/github.com/kr/text/@v/v0.1.0.zip"
        #expect(try await HTTP.get(warren.url + "/github.com/kr/text/@v/v0.1.0.info").status == 200)
        for _ in 0..<300 where !FileManager.default.fileExists(atPath: zipPath) {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(FileManager.default.fileExists(atPath: zipPath), "no zip built after the .info")
        let zip = try await HTTP.get(warren.url + "/github.com/kr/text/@v/v0.1.0.zip")
        #expect(zip.status == 200 && zip.headers.first(name: "X-Warren-Cache") == "hit")
        #expect(ZipNames.list(zip.body).contains("github.com/kr/text@v0.1.0/doc.go"))
        // Counted once the build has finished (just after the file appears).
        var metrics = ""
        for _ in 0..<100 {
            metrics = try await HTTP.get(warren.url + "/metrics").text
            if metrics.contains("warren_zip_prefetches_total{outcome=\"built\"} 1") { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(metrics.contains("warren_zip_prefetches_total{outcome=\"built\"} 1"), "\(metrics.split(separator: "\n").filter { $0.contains("prefetch") })")

        let off = try await WarrenServerProcess.start(arguments: ["--upstream", "direct", "--direct-prefetch", "off"], environment: git.environment)
        defer { off.stop() }
        #expect(try await HTTP.get(off.url + "/github.com/kr/text/@v/v0.1.0.info").status == 200)
        #expect(try await HTTP.get(off.url + "/github.com/kr/text/@v/v0.1.0.mod").status == 200)
        try await Task.sleep(for: .seconds(1))
        #expect(!FileManager.default.fileExists(atPath: off.dataDir + "/modules/github.com/kr/text/@v/v0.1.0.zip"))
        let asked = try await HTTP.get(off.url + "/github.com/kr/text/@v/v0.1.0.zip")
        #expect(asked.status == 200 && asked.headers.first(name: "X-Warren-Cache") == "miss")
        #expect(asked.body == zip.body, "the same zip either way")
    }

    @Test func missingRepositoriesAndVersionsAreNotFound() async throws {
        let warren = try await WarrenServerProcess.start(arguments: ["--upstream", "direct"], environment: git.environment)
        defer { warren.stop() }
        let noRepo = try await HTTP.get(warren.url + "/github.com/wtest/absent/@v/list")
        #expect(noRepo.status == 404, "\(noRepo.text)")
        #expect(!noRepo.text.contains(git.root), "a local path leaked: \(noRepo.text)")
        #expect(try await HTTP.get(warren.url + "/github.com/kr/text/@v/v9.9.9.info").status == 404)
        #expect(try await HTTP.get(warren.url + "/github.com/kr/text/@v/no-such-branch.info").status == 404)
        let unknownHost = try await HTTP.get(warren.url + "/example.com/x/@v/list")
        #expect(unknownHost.status == 404 && unknownHost.text.contains("unrecognized import path"), "\(unknownHost.text)")
        // One bare mirror per repository, reused.
        _ = try await HTTP.get(warren.url + "/github.com/kr/text/@v/list")
        let mirrors = try FileManager.default.contentsOfDirectory(atPath: warren.dataDir + "/vcs/github.com/kr")
        #expect(mirrors == ["text.git"])
    }
}

/// Entry names of a zip, from its central directory (enough for assertions).
enum ZipNames {
    static func list(_ bytes: [UInt8]) -> [String] {
        var names: [String] = []
        var i = 0
        while i + 46 <= bytes.count {
            if bytes[i] == 0x50, bytes[i + 1] == 0x4B, bytes[i + 2] == 0x01, bytes[i + 3] == 0x02 {
                let n = Int(bytes[i + 28]) | Int(bytes[i + 29]) << 8
                guard i + 46 + n <= bytes.count else { break }
                names.append(String(decoding: bytes[(i + 46)..<(i + 46 + n)], as: UTF8.self))
                i += 46 + n
            } else {
                i += 1
            }
        }
        return names
    }
}
