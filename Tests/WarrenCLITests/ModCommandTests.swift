import Foundation
import GoModule
import Testing

/// `warren mod zip|hash|check`, run as a separate process as a team's scripts would.
@Suite struct ModCommandTests {
    func sampleModule() throws -> ScratchDirectory {
        let dir = ScratchDirectory()
        try dir.write("src/go.mod", "module example.com/tool\n\ngo 1.21\n")
        try dir.write("src/main.go", "package main\n\nfunc main() {}\n")
        try dir.write("src/vendor/example.org/dep/dep.go", "package dep\n")
        try dir.write("src/internal/x.go", "package internal\n")
        return dir
    }

    @Test func zipHashAndCheckAgree() throws {
        let dir = try sampleModule()
        let zip = try WarrenBinary.run(["mod", "zip", dir.path + "/src", "example.com/tool@v1.2.3", dir.path + "/tool.zip"])
        #expect(zip.status == 0, "\(zip.stderr)")
        let line = zip.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let hash = try Hash1.hashZip(path: dir.path + "/tool.zip")
        #expect(line == "example.com/tool v1.2.3 \(hash)")

        let hashed = try WarrenBinary.run(["mod", "hash", dir.path + "/tool.zip"])
        #expect(hashed.status == 0)
        #expect(hashed.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == line)

        let checked = try WarrenBinary.run(["mod", "check", "example.com/tool@v1.2.3", dir.path + "/tool.zip"])
        #expect(checked.status == 0, "\(checked.stderr)")
        #expect(checked.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == line)

        let names = try ZipReader(path: dir.path + "/tool.zip").entries.map(\.name).sorted()
        #expect(names == ["example.com/tool@v1.2.3/go.mod", "example.com/tool@v1.2.3/internal/x.go", "example.com/tool@v1.2.3/main.go"])
    }

    @Test func goModHashIsTheGoSumLine() throws {
        let dir = try sampleModule()
        let r = try WarrenBinary.run(["mod", "hash", "--version", "v1.2.3", dir.path + "/src/go.mod"])
        #expect(r.status == 0)
        let expected = Hash1.hashGoMod(Array("module example.com/tool\n\ngo 1.21\n".utf8))
        #expect(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "example.com/tool v1.2.3/go.mod \(expected)")
        let bare = try WarrenBinary.run(["mod", "hash", dir.path + "/src/go.mod"])
        #expect(bare.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == expected)
    }

    @Test func checkRejectsTheWrongModule() throws {
        let dir = try sampleModule()
        _ = try WarrenBinary.run(["mod", "zip", dir.path + "/src", "example.com/tool@v1.2.3", dir.path + "/tool.zip"])
        let r = try WarrenBinary.run(["mod", "check", "example.com/other@v1.2.3", dir.path + "/tool.zip"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("path does not have prefix \"example.com/other@v1.2.3/\""))
        let notZip = try WarrenBinary.run(["mod", "check", "example.com/tool@v1.2.3", dir.path + "/src/go.mod"])
        #expect(notZip.status == 1)
        #expect(notZip.stderr.contains("not a valid zip file"))
    }

    /// A failed zip leaves nothing behind: no partial output for a script to pick up.
    @Test func failedZipLeavesNoFile() throws {
        let dir = try sampleModule()
        try dir.write("src/GO.MOD", "module clash\n")
        let r = try WarrenBinary.run(["mod", "zip", dir.path + "/src", "example.com/tool@v1.2.3", dir.path + "/tool.zip"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("go.mod files must have lowercase names"))
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix("tool.zip") }
        #expect(left.isEmpty, "left behind: \(left)")

        let badVersion = try WarrenBinary.run(["mod", "zip", dir.path + "/src", "example.com/tool@v2.0.0", dir.path + "/tool.zip"])
        #expect(badVersion.status == 1)
        #expect(badVersion.stderr.contains("should be v0 or v1, not v2"))
        let noAt = try WarrenBinary.run(["mod", "zip", dir.path + "/src", "example.com/tool", dir.path + "/tool.zip"])
        #expect(noAt.status != 0)
    }
}
