import Foundation
import GoModule
import Testing

/// `warren serve` with a real checksum database on loopback (x/mod's sumdb server, see
/// Tools/sumdbtest): public modules are verified before they are stored, tampered ones
/// are refused with both hashes named, a forked log is caught, the database is proxied
/// under /sumdb/ for the go command, and private names never reach it.
@Suite struct SumDBProxyTests {
    let fixture = ModuleFixture.shared

    func stored(_ warren: WarrenServerProcess, _ path: String) -> Bool {
        FileManager.default.fileExists(atPath: warren.dataDir + "/modules/" + path)
    }

    /// A valid zip of gopkg.in/yaml.v3 v3.0.1 whose content differs from the real one
    /// (one comment added), with the same go.mod: only the checksum database can tell.
    func tamperedYAMLZip(in scratch: ScratchDirectory) throws -> (bytes: [UInt8], hash: String) {
        let source = "/usr/share/gocode/src/gopkg.in/yaml.v3"
        let copy = scratch.path + "/yaml.v3"
        try FileManager.default.copyItem(atPath: source, toPath: copy)
        let file = copy + "/yaml.go"
        var text = try String(contentsOfFile: file, encoding: .utf8)
        text += "\n// an extra line nobody released\n"
        try FileManager.default.removeItem(atPath: file)
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        let zipPath = scratch.path + "/tampered.zip"
        let result = try ModuleZipWriter.create(module: "gopkg.in/yaml.v3", version: "v3.0.1", directory: copy,
                                                to: try WritableFile(creating: zipPath, exclusive: false))
        return (Array(try Data(contentsOf: URL(fileURLWithPath: zipPath))), result.hash)
    }

    @Test func tamperedModulesAreRefusedAndNothingIsCached() async throws {
        let db = try SumDBServer(root: fixture.root)
        defer { db.stop() }
        let upstream = FaultyUpstream(root: fixture.root)
        try await upstream.start()
        defer { upstream.stop() }
        let warren = try await WarrenServerProcess.start(arguments: ["--upstream", upstream.url, "--sumdb", db.verifierKey + " " + db.url])
        defer { warren.stop() }

        // A good module: verified, stored, served.
        let kr = try #require(fixture.module("github.com/kr/text", "v0.2.0"))
        let goodMod = try await HTTP.get(warren.url + "/" + ModuleFixture.artifactPath(kr.path, kr.version, "mod"))
        #expect(goodMod.status == 200)
        let goodZip = try await HTTP.get(warren.url + "/" + ModuleFixture.artifactPath(kr.path, kr.version, "zip"))
        #expect(goodZip.status == 200)
        #expect(goodZip.headers.first(name: "ETag") == "\"\(kr.zipHash)\"")
        #expect(db.requests.contains("/lookup/github.com/kr/text@v0.2.0"))

        // A tampered .mod: 403 naming the module and both hashes; nothing stored.
        let toml = try #require(fixture.module("github.com/BurntSushi/toml", "v1.2.1"))
        let modPath = ModuleFixture.artifactPath(toml.path, toml.version, "mod")
        let realMod = Array(try Data(contentsOf: URL(fileURLWithPath: fixture.root + "/" + modPath)))
        let fakeMod = realMod + Array("// replaced on the way\n".utf8)
        upstream.setFault(modPath, .replace(fakeMod))
        let refused = try await HTTP.get(warren.url + "/" + modPath)
        #expect(refused.status == 403)
        #expect(refused.text.contains("github.com/BurntSushi/toml@v1.2.1/go.mod: checksum mismatch"), "\(refused.text)")
        #expect(refused.text.contains(Hash1.hashGoMod(fakeMod)) && refused.text.contains(toml.modHash), "\(refused.text)")
        #expect(!stored(warren, modPath))
        upstream.setFault(modPath, nil)
        #expect(try await HTTP.get(warren.url + "/" + modPath).status == 200)

        // A tampered zip, larger than what is held back while streaming: it streams like
        // any zip, but its last bytes never leave, so the first client is cut short (or
        // gets the 403, when the verdict came before any byte could be released).
        let scratch = ScratchDirectory()
        let yaml = try #require(fixture.module("gopkg.in/yaml.v3", "v3.0.1"))
        let fake = try tamperedYAMLZip(in: scratch)
        #expect(fake.hash != yaml.zipHash && fake.bytes.count > 64 * 1024)
        let zipPath = ModuleFixture.artifactPath(yaml.path, yaml.version, "zip")
        upstream.setFault(zipPath, .replace(fake.bytes))
        do {
            let first = try await HTTP.get(warren.url + "/" + zipPath)
            #expect(first.status == 403, "a tampered zip was answered \(first.status) with \(first.body.count) bytes")
        } catch {
            // Cut before the end: the client never held the complete bad zip.
        }
        // The go command's retry, and everyone after it, get the 403 at once: the refusal
        // is remembered, and the upstream is not asked again.
        for _ in 0..<2 {
            let refusedZip = try await HTTP.get(warren.url + "/" + zipPath)
            #expect(refusedZip.status == 403)
            #expect(refusedZip.text.contains("gopkg.in/yaml.v3@v3.0.1: checksum mismatch"), "\(refusedZip.text)")
            #expect(refusedZip.text.contains(fake.hash) && refusedZip.text.contains(yaml.zipHash), "\(refusedZip.text)")
        }
        #expect(upstream.count(zipPath) == 1)
        #expect(!stored(warren, zipPath))

        // Counted and logged.
        let metrics = try await HTTP.get(warren.url + "/metrics").text
        #expect(metrics.contains("warren_checksum_mismatches_total{artifact=\"zip\"} 1"), "\(metrics)")
        #expect(metrics.contains("warren_checksum_mismatches_total{artifact=\"mod\"} 1"), "\(metrics)")
        #expect(warren.stderr.contains("checksum mismatch"))
    }

    @Test func theGoCommandVerifiesThroughWarrenAndPrivateNamesStayHome() async throws {
        let db = try SumDBServer(root: fixture.root)
        defer { db.stop() }
        let warren = try await WarrenServerProcess.start(arguments: [
            "--upstream", "file://" + fixture.root, "--sumdb", db.verifierKey + " " + db.url, "--nosumdb", "github.com/google",
        ])
        defer { warren.stop() }
        #expect(warren.stderr.contains("without checksum verification"), "the start-up warning: \(warren.stderr)")

        // GOSUMDB names the database by key only: its own URL (https://sum.test) does not
        // exist, so the go command can only verify through Warren's /sumdb/ proxy.
        let go = GoClient(proxy: warren.url, environment: ["GOSUMDB": db.verifierKey, "GONOSUMDB": "github.com/google"])
        let r = try await go.run(["mod", "download", "-json", "github.com/kr/text@v0.2.0", "github.com/google/go-cmp@v0.5.9"])
        #expect(r.status == 0, "\(r.stderr)")
        let kr = try #require(fixture.module("github.com/kr/text", "v0.2.0"))
        let cmp = try #require(fixture.module("github.com/google/go-cmp", "v0.5.9"))
        #expect(r.stdout.contains("\"Sum\": \"\(kr.zipHash)\"") && r.stdout.contains("\"Sum\": \"\(cmp.zipHash)\""), "\(r.stdout)")
        let supported = try await HTTP.get(warren.url + "/sumdb/sum.test/supported")
        #expect(supported.status == 200)

        // Asked for it, Warren refuses to send a private name to the database.
        let leak = try await HTTP.get(warren.url + "/sumdb/sum.test/lookup/github.com/google/go-cmp@v0.5.9")
        #expect(leak.status == 403, "\(leak.text)")
        #expect(db.requests.contains { $0.contains("kr/text") })
        #expect(!db.requests.contains { $0.contains("google") }, "\(db.requests)")

        // A go command that does not know the database is told it is not proxied.
        #expect(try await HTTP.get(warren.url + "/sumdb/sum.golang.org/supported").status == 404)
    }

    @Test func aForkedLogIsCaughtByTheProxy() async throws {
        let db = try SumDBServer(root: fixture.root)
        defer { db.stop() }
        let warren = try await WarrenServerProcess.start(arguments: ["--upstream", "file://" + fixture.root, "--sumdb", db.verifierKey + " " + db.url])
        defer { warren.stop() }
        #expect(try await HTTP.get(warren.url + "/" + ModuleFixture.artifactPath("github.com/kr/text", "v0.2.0", "mod")).status == 200)
        try await db.fork()
        let modPath = ModuleFixture.artifactPath("github.com/BurntSushi/toml", "v1.2.1", "mod")
        let r = try await HTTP.get(warren.url + "/" + modPath)
        #expect(r.status == 502)
        #expect(r.text.contains("forked"), "\(r.text)")
        #expect(!stored(warren, modPath))
        #expect(try await HTTP.get(warren.url + "/sumdb/sum.test/latest").status == 502)
        #expect(warren.stderr.contains("checksum database failed verification"))
    }

    /// The tree head Warren last verified is kept in its data directory: a log that forks
    /// while Warren is down is caught by the next process, not trusted afresh.
    @Test func aForkedLogIsCaughtAcrossARestart() async throws {
        let db = try SumDBServer(root: fixture.root)
        defer { db.stop() }
        let arguments = ["--upstream", "file://" + fixture.root, "--sumdb", db.verifierKey + " " + db.url]
        let dataDir = FileManager.default.temporaryDirectory.path + "/warren-fork-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dataDir) }
        let first = try await WarrenServerProcess.start(arguments: arguments, dataDir: dataDir)
        #expect(try await HTTP.get(first.url + "/" + ModuleFixture.artifactPath("github.com/kr/text", "v0.2.0", "mod")).status == 200)
        #expect(first.stop() == 0)

        try await db.fork()
        let second = try await WarrenServerProcess.start(arguments: arguments, dataDir: dataDir)
        defer { second.stop() }
        let modPath = ModuleFixture.artifactPath("github.com/BurntSushi/toml", "v1.2.1", "mod")
        let r = try await HTTP.get(second.url + "/" + modPath)
        #expect(r.status == 502)
        #expect(r.text.contains("forked"), "\(r.text)")
        #expect(!FileManager.default.fileExists(atPath: dataDir + "/modules/" + modPath))
        // The module fetched before the fork is still served from storage.
        #expect(try await HTTP.get(second.url + "/" + ModuleFixture.artifactPath("github.com/kr/text", "v0.2.0", "mod")).status == 200)
    }

    @Test func tilesAreVerifiedBeforeTheyAreKept() async throws {
        let db = try SumDBServer(root: fixture.root, filler: 300)
        defer { db.stop() }
        let args = ["--upstream", "off", "--sumdb", db.verifierKey + " " + db.url]
        let warren = try await WarrenServerProcess.start(arguments: args)
        defer { warren.stop() }
        let latest = try await HTTP.get(warren.url + "/sumdb/sum.test/latest")
        #expect(latest.status == 200 && latest.text.hasPrefix("go.sum database tree\n300\n"), "\(latest.text)")

        let full = try await HTTP.get(warren.url + "/sumdb/sum.test/tile/8/0/000")
        #expect(full.status == 200 && full.body.count == 256 * 32)
        #expect(full.headers.first(name: "Cache-Control")?.contains("immutable") == true)
        #expect(FileManager.default.contents(atPath: warren.dataDir + "/modules/sumdb/sum.test/tile/8/0/000").map(Array.init) == full.body)
        let partial = try await HTTP.get(warren.url + "/sumdb/sum.test/tile/8/0/001.p/44")
        #expect(partial.status == 200 && partial.body.count == 44 * 32)
        #expect(partial.headers.first(name: "Cache-Control")?.contains("immutable") == false)
        #expect(!stored(warren, "sumdb/sum.test/tile/8/0/001.p/44"))
        #expect(try await HTTP.get(warren.url + "/sumdb/sum.test/tile/8/0/0").status == 404)
        #expect(try await HTTP.get(warren.url + "/sumdb/sum.test/lookup/not a module").status == 400)

        // A database that sends wrong tiles: refused, named, not kept.
        for (mode, words, partialWords) in [("hash", "does not verify", "does not match the signed tree"),
                                            ("short", "has 8191 bytes", "has 1407 bytes")] {
            try await db.breakAnswers(mode)
            let fresh = try await WarrenServerProcess.start(arguments: args)
            defer { fresh.stop() }
            let r = try await HTTP.get(fresh.url + "/sumdb/sum.test/tile/8/0/000")
            #expect(r.status == 502, "\(mode): \(r.text)")
            #expect(r.text.contains(words), "\(mode): \(r.text)")
            #expect(!stored(fresh, "sumdb/sum.test/tile/8/0/000"))
            let p = try await HTTP.get(fresh.url + "/sumdb/sum.test/tile/8/0/001.p/44")
            #expect(p.status == 502, "\(mode): \(p.text)")
            #expect(p.text.contains(partialWords), "\(mode): \(p.text)")
        }
        // Bad tree heads: a bad signature, a malformed note.
        for (mode, words) in [("sig", "signature"), ("note", "tree head")] {
            try await db.breakAnswers(mode)
            let fresh = try await WarrenServerProcess.start(arguments: args)
            defer { fresh.stop() }
            let r = try await HTTP.get(fresh.url + "/sumdb/sum.test/latest")
            #expect(r.status == 502, "\(mode): \(r.text)")
            #expect(r.text.contains(words), "\(mode): \(r.text)")
        }
    }

    @Test func theToolchainIsAlwaysVerified() async throws {
        let db = try SumDBServer(root: fixture.root)
        defer { db.stop() }
        let toolchainMod = "golang.org/toolchain/@v/v0.0.1-go1.21.0.linux-amd64.mod"
        // No database at all: refused before any upstream is asked.
        let upstream = FaultyUpstream(root: fixture.root)
        try await upstream.start()
        defer { upstream.stop() }
        let off = try await WarrenServerProcess.start(arguments: ["--upstream", upstream.url, "--sumdb", "off"])
        defer { off.stop() }
        let r = try await HTTP.get(off.url + "/" + toolchainMod)
        #expect(r.status == 403 && r.text.contains("must be verified"), "\(r.text)")
        #expect(upstream.count(toolchainMod) == 0)
        // A pattern that would skip it does not.
        let on = try await WarrenServerProcess.start(arguments: ["--upstream", upstream.url, "--sumdb", db.verifierKey + " " + db.url, "--nosumdb", "golang.org"])
        defer { on.stop() }
        _ = try await HTTP.get(on.url + "/" + toolchainMod)
        #expect(db.requests.contains { $0.hasPrefix("/lookup/golang.org/toolchain@") }, "\(db.requests)")
    }
}
