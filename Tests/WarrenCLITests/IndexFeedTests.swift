import Foundation
import TestServers
import Testing

/// `/index` and `/catalog` from the metadata index: after the go command has downloaded
/// through Warren, every version it stored is in both feeds, in their formats, with the
/// embedded SQLite index and with PostgreSQL.
@Suite struct IndexFeedTests {
    let fixture = ModuleFixture.shared

    struct IndexLine: Decodable, Equatable { var Path: String; var Version: String; var Timestamp: String }
    struct Catalog: Decodable {
        struct Entry: Decodable { var module: String; var version: String }
        var modules: [Entry]
        var next: String
    }

    @Test(arguments: ["sqlite", "postgres"])
    func theFeedsListWhatWasStored(database: String) async throws {
        var arguments = ["--upstream", "file://" + fixture.root]
        if database == "postgres" {
            let server = try await PostgresServer.shared()
            arguments += ["--database", server.url(try await server.createDatabase())]
        }
        let warren = try await WarrenServerProcess.start(arguments: arguments)
        defer { warren.stop() }
        let go = GoClient(proxy: warren.url)
        let download = try await go.run(["mod", "download"] + fixture.modules.map { "\($0.path)@\($0.version)" })
        #expect(download.status == 0, "\(download.stderr)")

        let index = try await HTTP.get(warren.url + "/index")
        #expect(index.status == 200, "\(index.text)")
        let lines = try index.text.split(separator: "\n").map { try JSONDecoder().decode(IndexLine.self, from: Data($0.utf8)) }
        #expect(Set(lines.map { "\($0.Path)@\($0.Version)" }) == Set(fixture.modules.map { "\($0.path)@\($0.version)" }))
        #expect(lines.map(\.Timestamp) == lines.map(\.Timestamp).sorted(), "the feed is not in time order")
        // Paging with since: from the third entry's time on, the first two are gone.
        let third = try #require(lines.dropFirst(2).first)
        let later = try await HTTP.get(warren.url + "/index?since=\(third.Timestamp)&limit=2")
        let laterLines = try later.text.split(separator: "\n").map { try JSONDecoder().decode(IndexLine.self, from: Data($0.utf8)) }
        #expect(laterLines == Array(lines[2..<4]))
        #expect(try await HTTP.get(warren.url + "/index?since=yesterday").status == 400)

        var entries: [String] = []
        var token = ""
        repeat {
            let page = try await HTTP.get(warren.url + "/catalog?pagesize=4&token=\(token)")
            #expect(page.status == 200, "\(page.text)")
            let catalog = try JSONDecoder().decode(Catalog.self, from: Data(page.body))
            entries += catalog.modules.map { "\($0.module)@\($0.version)" }
            token = catalog.next.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        } while !token.isEmpty
        #expect(entries == fixture.modules.map { "\($0.path)@\($0.version)" }.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
    }

    /// Full zip answers are downloads, on the ordinary path and the hot one alike; HEAD,
    /// ranges and other artifacts are not. Counts reach the shared index in batches (the
    /// last one when the server stops).
    @Test func zipDownloadsAreCountedInTheIndex() async throws {
        let module = try #require(fixture.modules.first)
        let server = try await PostgresServer.shared()
        let database = try await server.createDatabase()
        let warren = try await WarrenServerProcess.start(arguments: ["--upstream", "file://" + fixture.root, "--database", server.url(database)])
        let zip = warren.url + "/" + ModuleFixture.artifactPath(module.path, module.version, "zip")
        for _ in 0..<3 { #expect(try await HTTP.get(zip).status == 200) }
        #expect(try await HTTP.get(zip, method: .HEAD).status == 200)
        #expect(try await HTTP.get(zip, headers: [("Range", "bytes=0-9")]).status == 206)
        #expect(try await HTTP.get(warren.url + "/" + ModuleFixture.artifactPath(module.path, module.version, "mod")).status == 200)
        let metrics = try await HTTP.get(warren.url + "/metrics").text
        let hot = metrics.split(separator: "\n").first { $0.hasPrefix("warren_hot_path_answers_total") }
        #expect(hot.map { !$0.hasSuffix(" 0") } == true, "the hot path answered nothing: \(hot ?? "no metric")")
        #expect(await offThreadWait { warren.stop() == 0 })
        let sql = "SELECT downloads || ' ' || (last_access IS NOT NULL) FROM module_versions "
            + "WHERE module = '\(module.path)' AND version = '\(module.version)'"
        let row = try await offThread { try server.scalar(sql, database: database) }
        #expect(row == "3 true")
    }

    @Test func aBrokenDatabaseURLStopsTheStart() async throws {
        let secret = "pw-\(UUID().uuidString)"
        let closed = try RadosGateway.ClosedPort()
        defer { withExtendedLifetime(closed) {} }  // refusing connections to the end
        let result = try await WarrenBinary.run(["serve", "--listen", "127.0.0.1:0", "--sumdb", "off",
                                                 "--data-dir", NSTemporaryDirectory() + "/warren-db-\(UUID().uuidString)"],
                                                environment: ["PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory(),
                                                              "WARREN_DATABASE": "postgres://warren:\(secret)@127.0.0.1:\(closed.port)/x"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("cannot open the metadata index postgres://warren@127.0.0.1"), "\(result.stderr)")
        #expect(!result.stderr.contains(secret))
    }
}

/// `warren index rebuild`: storage is the source of truth, so a lost index comes back.
@Suite struct IndexRebuildTests {
    let fixture = ModuleFixture.shared

    @Test func aLostIndexIsRebuiltFromStorage() async throws {
        let data = FileManager.default.temporaryDirectory.path + "/warren-rebuild-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: data) }
        let targets = fixture.modules.map { "\($0.path)@\($0.version)" }
        do {
            let warren = try await WarrenServerProcess.start(arguments: ["--upstream", "file://" + fixture.root], dataDir: data)
            defer { warren.stop() }
            let download = try await GoClient(proxy: warren.url).run(["mod", "download"] + targets)
            #expect(download.status == 0, "\(download.stderr)")
        }
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: data + "/index.sqlite" + suffix) }

        let rebuild = try await WarrenBinary.run(["index", "rebuild", "--data-dir", data],
                                                 environment: ["PATH": "/usr/bin:/bin", "HOME": data])
        #expect(rebuild.status == 0, "\(rebuild.stderr)")
        // Each version's .info, .mod and .zip.
        #expect(rebuild.stdout.contains("indexed \(fixture.modules.count * 3) artifacts"), "\(rebuild.stdout)")

        let warren = try await WarrenServerProcess.start(arguments: ["--upstream", "off"], dataDir: data)
        defer { warren.stop() }
        let index = try await HTTP.get(warren.url + "/index")
        let lines = try index.text.split(separator: "\n").map { try JSONDecoder().decode(IndexFeedTests.IndexLine.self, from: Data($0.utf8)) }
        #expect(Set(lines.map { "\($0.Path)@\($0.Version)" }) == Set(targets))
    }
}

/// When every upstream fails and no list was ever stored, `list` answers with the
/// versions stored here (from the metadata index), so builds of them keep working.
@Suite struct ListFromIndexTests {
    let fixture = ModuleFixture.shared

    @Test func aDeadUpstreamStillListsWhatIsStored() async throws {
        let module = try #require(fixture.module("github.com/kr/text", "v0.2.0"))
        let listPath = "github.com/kr/text/@v/list"
        let (upstream, warren) = try await startProxyOnFixture()
        defer { warren.stop(); upstream.stop() }
        // Download one version without ever asking for the list.
        let go = GoClient(proxy: warren.url)
        let download = try await go.run(["mod", "download", "\(module.path)@\(module.version)"])
        #expect(download.status == 0, "\(download.stderr)")
        #expect(upstream.count(listPath) == 0)
        upstream.setFault(listPath, .status(500, "upstream is down"))
        let list = try await HTTP.get(warren.url + "/" + listPath)
        #expect(list.status == 200, "\(list.text)")
        #expect(list.text == "v0.2.0\n")
        #expect(list.headers.first(name: "cache-control") == "public, max-age=0")
        // A module with nothing stored still gets the upstream's failure.
        upstream.setFault("gopkg.in/yaml.v3/@v/list", .status(500, "upstream is down"))
        #expect(try await HTTP.get(warren.url + "/gopkg.in/yaml.v3/@v/list").status == 502)
    }
}
