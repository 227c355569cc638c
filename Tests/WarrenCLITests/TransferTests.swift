import Foundation
import TestServers
import Testing

/// Moving modules without a network between machines: a developer's module cache
/// imported into Warren (`warren mirror --modcache`), Warren's cache exported as a plain
/// GOPROXY tree (`warren export --tree`) that the go command reads with `file://`, and
/// toolchain modules (`warren mirror --toolchains`) that are always verified.
@Suite struct TransferTests {
    let fixture = ModuleFixture.shared

    @Test func aModuleCacheGoesInAndAFileTreeComesOut() async throws {
        let scratch = ScratchDirectory()
        // A developer's cache, filled by the go command straight from a file tree.
        let developer = GoClient(proxy: "file://" + fixture.root)
        let downloaded = try await developer.run(["mod", "download", "github.com/kr/text@v0.2.0", "gopkg.in/yaml.v3@v3.0.1"])
        #expect(downloaded.status == 0, "\(downloaded.stderr)")
        let data = scratch.path + "/data"
        let imported = try await offThread {
            try WarrenBinary.run(["mirror", "--modcache", developer.home + "/gopath/pkg/mod", "--data-dir", data, "--sumdb", "off", "--no-progress"])
        }
        #expect(imported.status == 0 && imported.stdout.contains("mirrored 2 of 2 versions (2 with zips); 0 failed"), "\(imported.stdout) \(imported.stderr)")

        // Exported as a GOPROXY tree, which the go command reads with nothing else running.
        let tree = scratch.path + "/tree"
        let exported = try await offThread { try WarrenBinary.run(["export", "--tree", tree, "--data-dir", data]) }
        #expect(exported.status == 0 && exported.stdout.contains("exported 2 versions"), "\(exported.stdout) \(exported.stderr)")
        #expect(try String(contentsOfFile: tree + "/github.com/kr/text/@v/list", encoding: .utf8) == "v0.2.0\n")
        let offline = GoClient(proxy: "file://" + tree)
        let fromTree = try await offline.run(["mod", "download", "-json", "github.com/kr/text@v0.2.0", "gopkg.in/yaml.v3@v3.0.1"])
        #expect(fromTree.status == 0, "\(fromTree.stderr)")
        for (module, version) in [("github.com/kr/text", "v0.2.0"), ("gopkg.in/yaml.v3", "v3.0.1")] {
            let want = try #require(fixture.module(module, version))
            #expect(fromTree.stdout.contains("\"Sum\": \"\(want.zipHash)\""), "\(module)")
        }
        // --since: nothing stored after tomorrow.
        let none = try await offThread { try WarrenBinary.run(["export", "--tree", scratch.path + "/none", "--data-dir", data, "--since", "2099-01-01"]) }
        #expect(none.status == 0 && none.stdout.contains("exported 0 versions"), "\(none.stdout) \(none.stderr)")
    }

    @Test func toolchainsAreMirroredOnlyWhenVerified() async throws {
        let scratch = ScratchDirectory()
        // A toolchain-shaped module: golang.org/toolchain at a go command's version, with a
        // binary of a few megabytes.
        let source = scratch.path + "/toolchain"
        try FileManager.default.createDirectory(atPath: source + "/bin", withIntermediateDirectories: true)
        try Data("module golang.org/toolchain\n".utf8).write(to: URL(fileURLWithPath: source + "/go.mod"))
        // Off the test's thread: the in-process servers of other tests share the runtime's two.
        try await offThread {
            let random = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/dev/urandom"))
            defer { try? random.close() }
            try random.read(upToCount: 6 << 20)?.write(to: URL(fileURLWithPath: source + "/bin/go"))
        }
        let version = "v0.0.1-go1.22.0.linux-amd64"
        let dir = scratch.path + "/tree/golang.org/toolchain/@v"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let zipped = try await offThread { try WarrenBinary.run(["mod", "zip", source, "golang.org/toolchain@\(version)", dir + "/\(version).zip"]) }
        #expect(zipped.status == 0, "\(zipped.stderr)")
        try FileManager.default.copyItem(atPath: source + "/go.mod", toPath: dir + "/\(version).mod")
        try Data(#"{"Version":"\#(version)","Time":"2024-02-06T00:00:00Z"}"#.utf8).write(to: URL(fileURLWithPath: dir + "/\(version).info"))
        let tree = scratch.path + "/tree"
        let sumdb = try await offThread { try SumDBServer(root: tree) }
        defer { sumdb.stop() }

        let arguments = ["mirror", "--toolchains", "go1.22.0", "--platforms", "linux-amd64", "--upstream", "file://" + tree, "--no-progress"]
        let unverified = try await offThread { try WarrenBinary.run(arguments + ["--data-dir", scratch.path + "/a", "--sumdb", "off"]) }
        #expect(unverified.status == 1 && unverified.stderr.contains("must be verified against a checksum database"), "\(unverified.stderr)")
        let verified = try await offThread {
            try WarrenBinary.run(arguments + ["--data-dir", scratch.path + "/b", "--sumdb", sumdb.verifierKey + " " + sumdb.url])
        }
        #expect(verified.status == 0 && verified.stdout.contains("mirrored 1 of 1 versions"), "\(verified.stdout) \(verified.stderr)")
        let warren = try await WarrenServerProcess.start(arguments: ["--upstream", "off"], dataDir: scratch.path + "/b")
        defer { warren.stop() }
        let served = try await HTTP.get(warren.url + "/golang.org/toolchain/@v/\(version).zip")
        let expected = try Data(contentsOf: URL(fileURLWithPath: dir + "/\(version).zip"))
        #expect(served.status == 200 && Data(served.body) == expected)
    }
}
