import Foundation
import TestServers
import Testing

/// The acceptance test: the real go command, with a fresh module cache and
/// GOPROXY set to Warren alone, in front of a real upstream (over HTTP, and as file://).
@Suite(.serialized) struct GoCommandTests {
    let fixture = ModuleFixture.shared

    @Test(arguments: ["http", "file"])
    func goCommandThroughWarren(upstreamKind: String) async throws {
        let upstream = FaultyUpstream(root: fixture.root)
        try await upstream.start()
        defer { upstream.stop() }
        let upstreamURL = upstreamKind == "http" ? upstream.url : "file://" + fixture.root
        let warren = try await WarrenServerProcess.start(arguments: ["--upstream", upstreamURL])
        defer { warren.stop() }
        let go = GoClient(proxy: warren.url)

        // go list -m -versions: the list, filtered (no pseudo-versions, no junk), sorted.
        let versions = try await go.run(["list", "-m", "-versions", "github.com/kr/text"])
        #expect(versions.status == 0, "\(versions.stderr)")
        #expect(versions.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "github.com/kr/text v0.1.0 v0.2.0")

        // go mod download -json: Sum and GoModSum equal the upstream's hashes.
        let targets = fixture.modules.map { "\($0.path)@\($0.version)" }
        let download = try await go.run(["mod", "download", "-json"] + targets)
        #expect(download.status == 0, "\(download.stderr)")
        let decoder = JSONDecoder()
        struct Downloaded: Decodable { var Path: String; var Version: String; var Sum: String?; var GoModSum: String?; var Error: String? }
        let objects = download.stdout.components(separatedBy: "\n}\n").filter { !$0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
        #expect(objects.count == fixture.modules.count)
        for object in objects {
            let d = try decoder.decode(Downloaded.self, from: Data((object.hasSuffix("}") ? object : object + "\n}").utf8))
            let expected = try #require(fixture.module(d.Path, d.Version))
            #expect(d.Error == nil, "\(d.Path)@\(d.Version): \(d.Error ?? "")")
            #expect(d.Sum == expected.zipHash, "\(d.Path)@\(d.Version)")
            #expect(d.GoModSum == expected.modHash, "\(d.Path)@\(d.Version)")
        }

        // go get and go build of a small program that uses two of the modules.
        try "module example.com/app\n\ngo 1.19\n".write(toFile: go.workDir + "/go.mod", atomically: true, encoding: .utf8)
        try """
        package main

        import (
        \t"fmt"

        \t"github.com/kr/text"
        \t"gopkg.in/yaml.v3"
        )

        func main() {
        \tout, _ := yaml.Marshal(map[string]int{"answer": 42})
        \tfmt.Print(text.Indent(string(out), "> "))
        }
        """.write(toFile: go.workDir + "/main.go", atomically: true, encoding: .utf8)
        let get = try await go.run(["get", "github.com/kr/text@v0.2.0", "gopkg.in/yaml.v3@v3.0.1"])
        #expect(get.status == 0, "\(get.stderr)")
        let build = try await go.run(["build", "-o", "app", "."])
        #expect(build.status == 0, "\(build.stderr)")
        #expect(try TestProcess.run(go.workDir + "/app", []).stdout == "> answer: 42\n")

        // @latest for a module without a list entry falls back to the @latest endpoint.
        let latest = try await go.run(["list", "-m", "-json", "github.com/kr/text@latest"])
        #expect(latest.stdout.contains("\"Version\": \"v0.2.0\""), "\(latest.stderr)")
    }
}
