import Foundation
import TestServers
import Testing

/// `warren mirror` against a counting upstream: a module@version brings its build graph,
/// a go.sum brings its lines (zips only where go.sum has them), a second run fetches
/// nothing again (it resumes), the mirrored versions are then served with the upstream
/// off, and a version that cannot be had fails the run.
@Suite struct MirrorTests {
    let fixture = ModuleFixture.shared

    @Test func mirroredModulesAreServedWithTheUpstreamOff() async throws {
        let upstream = FaultyUpstream(root: fixture.root)
        try await upstream.start()
        defer { upstream.stop() }
        let scratch = ScratchDirectory()
        let data = scratch.path + "/data"
        let goSum = scratch.path + "/go.sum"
        try Data("""
            gopkg.in/yaml.v3 v3.0.1 h1:fxVm/GzAzEWqLHuvctI91KS9hhNmmWOoWu0XTYJS7CA=
            gopkg.in/yaml.v3 v3.0.1/go.mod h1:K4uyk7z7BCEPqu6E+C64Yfv1cQ7kz7rIZviUmN+EgEM=
            github.com/google/go-cmp v0.5.9/go.mod h1:17dUlkBOakJ0+DkrSSNjCkIjxS6bF9zb3elmeNGIjoY=

            """.utf8).write(to: URL(fileURLWithPath: goSum))
        let arguments = ["mirror", "github.com/kr/text@v0.2.0", goSum, "--data-dir", data, "--upstream", upstream.url, "--sumdb", "off", "--no-progress"]
        let first = try await offThread { try WarrenBinary.run(arguments) }
        // kr/text's graph: itself and creack/pty (selected, so its zip is tried; the fixture
        // has only its go.mod: reported, but not named, so the run succeeds).
        #expect(first.status == 0, "\(first.stdout) \(first.stderr)")
        #expect(first.stdout.contains("mirrored 3 of 4 versions (3 with zips); 1 failed") && first.stderr.contains("github.com/creack/pty@v1.1.9"),
                "\(first.stdout) \(first.stderr)")
        #expect(upstream.count("github.com/kr/text/@v/v0.2.0.zip") == 1)
        #expect(upstream.count("github.com/creack/pty/@v/v1.1.9.mod") == 1)
        #expect(upstream.count("gopkg.in/yaml.v3/@v/v3.0.1.zip") == 1)
        #expect(upstream.count("github.com/google/go-cmp/@v/v0.5.9.mod") == 1)
        #expect(upstream.count("github.com/google/go-cmp/@v/v0.5.9.zip") == 0, "a go.mod-only go.sum line fetched the zip")

        // Again: everything is stored, nothing is asked of the upstream (besides what
        // failed the first time).
        let before = upstream.totalCount
        let pty = upstream.count("github.com/creack/pty/@v/v1.1.9.zip") + upstream.count("github.com/creack/pty/@v/v1.1.9.info")
        let second = try await offThread { try WarrenBinary.run(arguments) }
        let ptyAgain = upstream.count("github.com/creack/pty/@v/v1.1.9.zip") + upstream.count("github.com/creack/pty/@v/v1.1.9.info")
        #expect(upstream.totalCount - before == ptyAgain - pty, "the second run fetched \(upstream.totalCount - before) artifacts")

        // Served with no upstream at all.
        let warren = try await WarrenServerProcess.start(arguments: ["--upstream", "off"], dataDir: data)
        defer { warren.stop() }
        for path in ["github.com/kr/text/@v/v0.2.0.zip", "gopkg.in/yaml.v3/@v/v3.0.1.zip", "github.com/google/go-cmp/@v/v0.5.9.mod"] {
            let served = try await HTTP.get(warren.url + "/" + path)
            let expected = try Data(contentsOf: URL(fileURLWithPath: fixture.root + "/" + path))
            #expect(served.status == 200 && Data(served.body) == expected, "\(path): \(served.status)")
        }
        _ = second
    }

    @Test func aVersionThatCannotBeHadFailsTheRun() async throws {
        let scratch = ScratchDirectory()
        let r = try await offThread { [fixture] in
            try WarrenBinary.run(["mirror", "github.com/kr/text@v9.9.9", "--data-dir", scratch.path + "/data", "--upstream", "file://" + fixture.root,
                                  "--sumdb", "off", "--no-progress"])
        }
        #expect(r.status == 1 && r.stderr.contains("github.com/kr/text@v9.9.9"), "\(r.status) \(r.stdout) \(r.stderr)")
        let bad = try await offThread { try WarrenBinary.run(["mirror", "not a module", "--data-dir", scratch.path + "/data", "--sumdb", "off"]) }
        #expect(bad.status != 0 && bad.stderr.contains("module@version"), "\(bad.stderr)")
    }
}
