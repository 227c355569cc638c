import Foundation
import TestServers
import Testing

/// Eviction through the go command: a cache over its quota loses its least recently
/// used zips, never a pinned module's nor a hosted one's, and an evicted version is
/// fetched again, byte-identical, when asked for.
@Suite struct EvictionTests {
    let fixture = ModuleFixture.shared

    @Test func theOldestUnusedZipsGoAndPinnedAndHostedStay() async throws {
        let upstream = FaultyUpstream(root: fixture.root)
        try await upstream.start()
        defer { upstream.stop() }
        let scratch = ScratchDirectory()
        let data = scratch.path + "/data"
        let arguments = ["--upstream", upstream.url, "--hosted", "go.corp.test/*",
                         "--permissions", "user:ci publish go.corp.test/*; anonymous read go.corp.test/*"]
        let first = try await WarrenServerProcess.start(arguments: arguments, dataDir: data)
        let token = try await offThread { try WarrenBinary.run(["token", "create", "--data-dir", data, "--user", "ci"]) }
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try Data("machine 127.0.0.1 login ci password \(token)\n".utf8).write(to: URL(fileURLWithPath: scratch.path + "/netrc"))
        let lib = scratch.path + "/lib"
        try PublishTests.writeModule(lib, module: "go.corp.test/lib", greeting: "hosted")
        let published = try await WarrenBinary.run(["publish", lib, "go.corp.test/lib@v1.0.0", "--to", first.url],
                                                   environment: ["PATH": "/usr/bin:/bin", "NETRC": scratch.path + "/netrc"])
        #expect(published.status == 0, "\(published.stderr)")
        // Stored in this order; then kr/text, stored first, is used again, last.
        let go = GoClient(proxy: first.url)
        var sums: [String: String] = [:]
        for module in ["github.com/kr/text@v0.1.0", "github.com/BurntSushi/toml@v1.2.1", "gopkg.in/yaml.v3@v3.0.1", "github.com/google/go-cmp@v0.5.9"] {
            let r = try await go.run(["mod", "download", "-json", module])
            #expect(r.status == 0, "\(r.stderr)")
            sums[module] = r.stdout.split(separator: "\n").first { $0.contains("\"Sum\"") }.map(String.init)
        }
        #expect(try await HTTP.get(first.url + "/github.com/kr/text/@v/v0.1.0.zip").status == 200)
        // A graceful stop writes the download counts to the index.
        _ = first.stop()

        let pinned = try await WarrenBinary.run(["cache", "pin", "github.com/BurntSushi/*", "--data-dir", data], environment: ["PATH": "/usr/bin:/bin"])
        #expect(pinned.status == 0, "\(pinned.stderr)")
        // Room for toml and go-cmp (212,127 + 126,219 bytes) and a little more.
        let gc = ["cache", "gc", "--data-dir", data, "--hosted", "go.corp.test/*", "--cache-max-size", "350KiB", "--cache-min-age", "0s"]
        let dry = try await WarrenBinary.run(gc + ["--dry-run"], environment: ["PATH": "/usr/bin:/bin"])
        // The least recently used is yaml.v3 (toml, older, is pinned); without it the cache fits.
        #expect(dry.status == 0 && dry.stdout.contains("would evict gopkg.in/yaml.v3@v3.0.1") && dry.stdout.contains("least recently used"),
                "\(dry.stdout) \(dry.stderr)")
        for kept in ["toml", "go-cmp", "go.corp.test", "kr/text"] { #expect(!dry.stdout.contains(kept), "\(kept): \(dry.stdout)") }
        let zips = data + "/modules"
        #expect(FileManager.default.fileExists(atPath: zips + "/gopkg.in/yaml.v3/@v/v3.0.1.zip"), "a dry run removed something")

        let evicted = try await WarrenBinary.run(gc, environment: ["PATH": "/usr/bin:/bin"])
        #expect(evicted.status == 0 && evicted.stdout.contains("evicted gopkg.in/yaml.v3@v3.0.1"), "\(evicted.stdout) \(evicted.stderr)")
        #expect(!FileManager.default.fileExists(atPath: zips + "/gopkg.in/yaml.v3/@v/v3.0.1.zip"))
        #expect(FileManager.default.fileExists(atPath: zips + "/gopkg.in/yaml.v3/@v/v3.0.1.mod"), "the .mod outlives the zip")
        for kept in ["github.com/!burnt!sushi/toml/@v/v1.2.1.zip", "github.com/google/go-cmp/@v/v0.5.9.zip", "go.corp.test/lib/@v/v1.0.0.zip",
                     "github.com/kr/text/@v/v0.1.0.zip"] {
            #expect(FileManager.default.fileExists(atPath: zips + "/" + kept), "\(kept) was evicted")
        }

        // Asked for again: fetched from the upstream once more, the same bytes.
        let second = try await WarrenServerProcess.start(arguments: arguments, dataDir: data)
        defer { _ = second.stop() }
        let before = upstream.count("gopkg.in/yaml.v3/@v/v3.0.1.zip")
        let fresh = GoClient(proxy: second.url)
        let again = try await fresh.run(["mod", "download", "-json", "gopkg.in/yaml.v3@v3.0.1"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.split(separator: "\n").first { $0.contains("\"Sum\"") }.map(String.init) == sums["gopkg.in/yaml.v3@v3.0.1"])
        #expect(upstream.count("gopkg.in/yaml.v3/@v/v3.0.1.zip") == before + 1)
    }
}
