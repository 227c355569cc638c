import Foundation
import GoModule
import Testing

/// Air-gapped transfer with proofs: a Warren that reaches a checksum database (x/mod's
/// own server on loopback, see Tools/sumdbtest) exports a bundle; a second Warren with no
/// upstream at all and an unreachable database imports it, and the go command, with
/// GOSUMDB on and asking the second Warren's `/sumdb/` relay, downloads and verifies every
/// module. Tampered bundles — one changed byte, a changed byte with its SHA-256 fixed up, a
/// dropped tile, a forged tree head — are refused, naming the entry, and store nothing. A
/// second, weekly bundle (`--since`) brings a new module, and the same go client, which
/// remembers the first bundle's tree head, verifies old and new against the newer one.
@Suite struct BundleTests {
    let fixture = ModuleFixture.shared
    static let firstWeek = [("github.com/kr/text", "v0.2.0"), ("gopkg.in/yaml.v3", "v3.0.1"), ("github.com/BurntSushi/toml", "v1.2.1")]
    static let secondWeek = [("github.com/google/go-cmp", "v0.5.9")]

    static func tamper(_ bundle: String, _ out: String, _ args: [String]) async throws -> String {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Support/bundle_tamper.py").path
        let r = try await ExternalCommand.run("/usr/bin/python3", [script, bundle, out] + args, environment: ["PATH": "/usr/bin:/bin"])
        guard r.status == 0 else { throw POSIXError(.EIO) }
        return r.stdout
    }

    /// Every file under the data directory's module tree (what an import stored).
    static func storedFiles(_ dataDir: String) -> [String] {
        (FileManager.default.enumerator(atPath: dataDir + "/modules")?.allObjects as? [String] ?? [])
            .filter { $0.hasSuffix(".zip") || $0.hasSuffix(".mod") || $0.hasSuffix(".info") || $0.contains("/lookup/") || $0.contains("/tile/") }
    }

    /// Fetches the versions through Warren, and returns once each is stored: a zip reaches
    /// its client before its commit ends, and a `Disable-Module-Fetch` request waits for it.
    static func cache(_ versions: [(String, String)], at url: String) async throws {
        for (path, version) in versions {
            for ext in ["info", "mod", "zip"] {
                #expect(try await HTTP.get(url + "/" + ModuleFixture.artifactPath(path, version, ext)).status == 200)
            }
            let stored = try await HTTP.get(url + "/" + ModuleFixture.artifactPath(path, version, "zip"), headers: [("Disable-Module-Fetch", "true")])
            #expect(stored.status == 200, "\(path)@\(version) was not stored")
        }
    }

    @Test func aBundleCarriesModulesAndProofsIntoANetworkWithNoRouteOut() async throws {
        let db = try SumDBServer(root: fixture.root)
        defer { db.stop() }
        let scratch = ScratchDirectory()
        let online = "\(db.verifierKey) \(db.url)"
        let offline = "\(db.verifierKey) http://127.0.0.1:9"  // nothing listens on the discard port
        let exporter = try await WarrenServerProcess.start(arguments: ["--upstream", "file://" + fixture.root, "--sumdb", online])
        defer { exporter.stop() }
        try await Self.cache(Self.firstWeek, at: exporter.url)
        // Other releases fill the log past a full tile: week one's records are in one.
        try await db.grow(300)
        let bundle = scratch.path + "/week1.tar"
        let exported = try await offThread { try WarrenBinary.run(["export", "-o", bundle, "--data-dir", exporter.dataDir, "--sumdb", online]) }
        #expect(exported.status == 0 && exported.stdout.contains("exported 3 versions") && exported.stdout.contains("3 checksum records"),
                "\(exported.stdout) \(exported.stderr)")
        let entries = try await Self.tamper(bundle, "/dev/null", ["list"]).split(separator: "\n").map(String.init)
        #expect(entries.last == "warren-bundle.json", "\(entries)")
        let tiles = entries.filter { $0.hasPrefix("sumdb/sum.test/tile/") }
        let fullTile = try #require(tiles.first { !$0.contains(".p/") }, "\(tiles)")
        let edgeTile = try #require(tiles.first { $0.contains(".p/") }, "\(tiles)")

        // Tampered copies are refused whole, naming what is wrong, and store nothing.
        let target = scratch.path + "/offline-data"
        let zipEntry = "modules/gopkg.in/yaml.v3/@v/v3.0.1.zip"
        let cases: [(String, [String], String)] = [
            ("flip", ["flip", zipEntry, "5000"], "\(zipEntry): its SHA-256 is not the manifest's"),
            ("resum", ["flip-and-resum", zipEntry, "5000"], zipEntry),
            ("drop", ["drop", fullTile], "\(fullTile) is missing"),
            ("forge", ["forge-head"], "the tree head of sum.test"),
            ("full tile", ["flip", fullTile, "4000"], "\(fullTile.dropFirst("sumdb/sum.test/".count)) does not match the hash"),
            ("edge tile", ["flip", edgeTile, "7"], "do not hash to the signed tree"),
        ]
        for (name, args, words) in cases {
            let bad = scratch.path + "/\(name).tar"
            _ = try await Self.tamper(bundle, bad, args)
            let refused = try await offThread { try WarrenBinary.run(["import", bad, "--data-dir", target, "--sumdb", offline]) }
            #expect(refused.status == 1 && refused.stderr.contains(words), "\(name): \(refused.stderr)")
            #expect(Self.storedFiles(target).isEmpty, "\(name): \(Self.storedFiles(target))")
        }

        // The real bundle: checked, then stored, with the database unreachable.
        let imported = try await offThread { try WarrenBinary.run(["import", bundle, "--data-dir", target, "--sumdb", offline]) }
        #expect(imported.status == 0 && imported.stdout.contains("imported 3 versions"), "\(imported.stdout) \(imported.stderr)")
        let airGapped = try await WarrenServerProcess.start(arguments: ["--upstream", "off", "--sumdb", offline], dataDir: target)
        defer { airGapped.stop() }
        let developer = GoClient(proxy: airGapped.url, environment: ["GOSUMDB": db.verifierKey])
        func download(_ modules: [(String, String)]) async throws {
            let r = try await developer.run(["mod", "download", "-json"] + modules.map { "\($0.0)@\($0.1)" })
            #expect(r.status == 0, "\(r.stderr)\(r.stdout)")
            for (path, version) in modules {
                let m = try #require(fixture.module(path, version))
                #expect(r.stdout.contains("\"Sum\": \"\(m.zipHash)\""), "\(path)@\(version): \(r.stdout)")
            }
        }
        try await download(Self.firstWeek)
        let console = try await HTTP.get(airGapped.url + "/-/status").text
        #expect(console.contains("(carried by an imported bundle)"), "\(console)")
        // With no upstream, `list` and `@latest` come from what is held.
        let latestQuery = try await developer.run(["mod", "download", "-json", "github.com/kr/text@latest"])
        #expect(latestQuery.status == 0 && latestQuery.stdout.contains("\"Version\": \"v0.2.0\""), "\(latestQuery.stderr)")
        #expect(try await HTTP.get(airGapped.url + "/gopkg.in/yaml.v3/@v/list").text == "v3.0.1\n")
        // The go command checked them against the database: it keeps the tree head it saw.
        let seen = try String(contentsOfFile: developer.home + "/gopath/pkg/sumdb/sum.test/latest", encoding: .utf8)
        let fetchedTiles = FileManager.default.enumerator(atPath: developer.home + "/gopath/pkg/mod/cache/download/sumdb/sum.test/tile")?.allObjects ?? []
        #expect(!fetchedTiles.isEmpty, "the go command read no tiles from the relay")
        #expect(seen.hasPrefix("go.sum database tree\n"), "\(seen)")
        let latest = try await HTTP.get(airGapped.url + "/sumdb/sum.test/latest")
        #expect(latest.status == 200 && latest.text.hasPrefix(seen.split(separator: "\n").prefix(3).joined(separator: "\n")), "\(latest.text)")

        // A week later: one more module, so the log has grown; only it is exported (--since),
        // with the proofs of last week's records and last week's head against the new head.
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let cut = fractional.string(from: Date())  // after everything of week one was stored
        try await Self.cache(Self.secondWeek, at: exporter.url)
        let second = scratch.path + "/week2.tar"
        let exported2 = try await offThread { try WarrenBinary.run(["export", "-o", second, "--since", cut, "--data-dir", exporter.dataDir, "--sumdb", online]) }
        #expect(exported2.status == 0 && exported2.stdout.contains("exported 1 versions"), "\(exported2.stdout) \(exported2.stderr)")
        // The full tile week one carried is not carried again: the importer holds it.
        #expect(exported2.stdout.contains("(1 more carried by earlier bundles)"), "\(exported2.stdout)")
        #expect(try await !Self.tamper(second, "/dev/null", ["list"]).contains(fullTile))
        let imported2 = try await offThread { try WarrenBinary.run(["import", second, "--data-dir", target, "--sumdb", offline]) }
        #expect(imported2.status == 0 && imported2.stdout.contains("imported 1 versions"), "\(imported2.stdout) \(imported2.stderr)")
        // The first bundle again, after the second: older than what is held, refused.
        let again = try await offThread { try WarrenBinary.run(["import", bundle, "--data-dir", target, "--sumdb", offline]) }
        #expect(again.status == 1 && again.stderr.contains("import bundles in the order"), "\(again.stderr)")

        // The developer's go command still remembers week one's head; a clean module cache
        // makes it look everything up again, all of it proved in week two's tree.
        _ = try await developer.run(["clean", "-modcache"])
        try await download(Self.firstWeek + Self.secondWeek)
        let seen2 = try String(contentsOfFile: developer.home + "/gopath/pkg/sumdb/sum.test/latest", encoding: .utf8)
        #expect(seen2 != seen, "the go command never saw the second bundle's tree")

        // A Warren that verifies nothing (--sumdb off) takes the artifacts, checked by size,
        // SHA-256 and h1:, and leaves the proofs.
        let unverified = scratch.path + "/unverified-data"
        let plain = try await offThread { try WarrenBinary.run(["import", bundle, "--data-dir", unverified, "--sumdb", "off"]) }
        #expect(plain.status == 0 && plain.stdout.contains("imported 3 versions") && plain.stdout.contains("0 checksum records"), "\(plain.stdout) \(plain.stderr)")
    }

    /// `--sign`: the exporter signs the manifest with its checksum-database key; an importer
    /// that names the key (`--bundle-key`) takes only bundles signed by it over exactly
    /// their manifest, so private modules (which no public database vouches for) arrive as
    /// they left.
    @Test func aSignedBundleCarriesPrivateModulesAsTheyLeft() async throws {
        let scratch = ScratchDirectory()
        let exporter = try await WarrenServerProcess.start(arguments: ["--upstream", "file://" + fixture.root])
        defer { exporter.stop() }
        try await Self.cache([("github.com/kr/text", "v0.2.0")], at: exporter.url)
        let initialized = try await offThread { try WarrenBinary.run(["sumdb", "init", "--name", "bundles.test", "--data-dir", exporter.dataDir]) }
        let key = try #require(initialized.stdout.split(separator: "\n").first { $0.hasPrefix("verifier key: ") }?.dropFirst("verifier key: ".count),
                               "\(initialized.stdout) \(initialized.stderr)")
        let signed = scratch.path + "/signed.tar", unsigned = scratch.path + "/unsigned.tar"
        let made = try await offThread { try WarrenBinary.run(["export", "-o", signed, "--sign", "--data-dir", exporter.dataDir, "--sumdb", "off"]) }
        #expect(made.status == 0 && made.stdout.contains("signed by bundles.test"), "\(made.stdout) \(made.stderr)")
        _ = try await offThread { try WarrenBinary.run(["export", "-o", unsigned, "--fresh", "--data-dir", exporter.dataDir, "--sumdb", "off"]) }

        let target = scratch.path + "/offline-data"
        func importing(_ bundle: String, _ key: String) async throws -> WarrenBinary.Output {
            try await offThread { try WarrenBinary.run(["import", bundle, "--data-dir", target, "--sumdb", "off", "--bundle-key", key]) }
        }
        // The zip changed and its SHA-256 fixed up in the manifest: the signature no longer covers it.
        let forged = scratch.path + "/forged.tar"
        _ = try await Self.tamper(signed, forged, ["flip-and-resum", "modules/github.com/kr/text/@v/v0.2.0.zip", "3000"])
        let refusedForged = try await importing(forged, String(key))
        #expect(refusedForged.status == 1 && refusedForged.stderr.contains("signs another manifest"), "\(refusedForged.stderr)")
        let refusedUnsigned = try await importing(unsigned, String(key))
        #expect(refusedUnsigned.status == 1 && refusedUnsigned.stderr.contains("warren-bundle.sig: missing"), "\(refusedUnsigned.stderr)")
        // Another key of the same name.
        let other = try await offThread { try WarrenBinary.run(["sumdb", "init", "--name", "bundles.test", "--data-dir", scratch.path + "/other"]) }
        let otherKey = try #require(other.stdout.split(separator: "\n").first { $0.hasPrefix("verifier key: ") }?.dropFirst("verifier key: ".count))
        let refusedOther = try await importing(signed, String(otherKey))
        #expect(refusedOther.status == 1 && refusedOther.stderr.contains("not signed by bundles.test"), "\(refusedOther.stderr)")
        #expect(Self.storedFiles(target).isEmpty, "\(Self.storedFiles(target))")

        let accepted = try await importing(signed, String(key))
        #expect(accepted.status == 0 && accepted.stdout.contains("imported 1 versions") && accepted.stdout.contains("signed by bundles.test"),
                "\(accepted.stdout) \(accepted.stderr)")
    }
}
