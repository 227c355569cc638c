import Foundation
import Testing
@testable import GoModule

/// Warren's module zips against the go command's, on real module sources from Debian's
/// golang-*-dev packages and on trees built to hit every zip rule: the file lists and
/// `h1:` hashes must be identical, and each side must accept the other's zip.
@Suite struct DifferentialZipTests {
    static let gocode = "/usr/share/gocode/src/"

    /// (source directory under /usr/share/gocode/src, module path, version)
    static let realModules: [(String, String, String)] = [
        ("golang.org/x/sys", "golang.org/x/sys", "v0.3.0"),
        ("golang.org/x/text", "golang.org/x/text", "v0.7.0"),
        ("golang.org/x/tools", "golang.org/x/tools", "v0.5.0"),  // nested module in go/expect/testdata
        ("github.com/kr/text", "github.com/kr/text", "v0.2.0"),
        ("gopkg.in/yaml.v3", "gopkg.in/yaml.v3", "v3.0.1"),
        ("github.com/Azure/go-autorest/autorest", "github.com/Azure/go-autorest/autorest", "v0.11.28"),  // 7 nested modules
        ("github.com/dgrijalva/jwt-go", "github.com/dgrijalva/jwt-go", "v3.2.0+incompatible"),  // no go.mod
        ("github.com/BurntSushi/toml", "github.com/BurntSushi/toml", "v1.2.1"),  // upper case in the path
        ("github.com/Masterminds/semver", "github.com/Masterminds/semver/v3", "v3.2.0"),
        ("github.com/google/go-cmp", "github.com/google/go-cmp", "v0.5.9"),
    ]

    @Test(arguments: realModules)
    func realModuleTree(directory: String, module: String, version: String) throws {
        let dir = Self.gocode + directory
        try #require(FileManager.default.fileExists(atPath: dir), "missing Debian package source \(dir) (see .ci/run)")
        try compareWithGo(directory: dir, module: module, version: version)
    }

    /// A real tree (kr/text) with every rule's edge added: vendor directories and the
    /// historical nested-vendor quirk, a nested module, a symlink, VCS directories,
    /// `.hg_archival.txt`, upper-case, unicode, empty, CRLF and executable files.
    @Test func edgeCaseTree() throws {
        let source = Self.gocode + "github.com/kr/text"
        try #require(FileManager.default.fileExists(atPath: source))
        let tmp = TemporaryDirectory("edge-tree")
        let dir = tmp.file("text")
        try FileManager.default.copyItem(atPath: source, toPath: dir)
        let edits: [(String, String)] = [
            ("vendor/modules.txt", "# github.com/x/y v1.0.0\n"),
            ("vendor/stray.go", "package vendor\n"),
            ("vendor/github.com/x/y/y.go", "package y\n"),
            ("internal/vendor/quirk.go", "package vendor\n"),
            ("pkg/vendor/deep/file.go", "package deep\n"),
            ("nested/go.mod", "module github.com/kr/text/nested\n"),
            ("nested/inner.go", "package nested\n"),
            (".hg_archival.txt", "repo: 0000\n"),
            (".git/config", "[core]\n"),
            (".svn/entries", "x\n"),
            ("sub/.hg/store", "x\n"),
            ("Upper/Case.GO", "package Upper\n"),
            ("unicode/ünïcødé.go", "package unicode\n"),
            ("empty.txt", ""),
            ("crlf.txt", "line one\r\nline two\r\n"),
            ("LICENSE.md", "Not the LICENSE.\n"),
        ]
        for (path, text) in edits { try tmp.write("text/" + path, text) }
        try FileManager.default.createSymbolicLink(atPath: dir + "/link.go", withDestinationPath: "doc.go")
        try FileManager.default.createSymbolicLink(atPath: dir + "/linkdir", withDestinationPath: "cmd")
        try tmp.write("text/run.sh", "#!/bin/sh\necho hi\n")
        chmod(dir + "/run.sh", 0o755)

        let names = try compareWithGo(directory: dir, module: "github.com/kr/text", version: "v0.2.1")
        let prefix = "github.com/kr/text@v0.2.1/"
        // The rules, spelled out: what stays and what goes.
        for kept in ["vendor/modules.txt", "vendor/stray.go", "Upper/Case.GO", "unicode/ünïcødé.go", "empty.txt", "crlf.txt", "run.sh"] {
            #expect(names.contains(prefix + kept), "\(kept) should be in the zip")
        }
        for dropped in ["vendor/github.com/x/y/y.go", "internal/vendor/quirk.go", "pkg/vendor/deep/file.go", "nested/inner.go",
                        "nested/go.mod", ".hg_archival.txt", ".git/config", ".svn/entries", "sub/.hg/store", "link.go"] {
            #expect(!names.contains(prefix + dropped), "\(dropped) should not be in the zip")
        }
        #expect(!names.contains { $0.hasPrefix(prefix + "linkdir/") })
    }

    /// A module whose tree has no go.mod and an upper-case module path element.
    @Test func upperCaseModuleWithoutGoMod() throws {
        let tmp = TemporaryDirectory("upper")
        try tmp.write("m/Doc.go", "package m\n")
        try tmp.write("m/sub/Sub.go", "package sub\n")
        try compareWithGo(directory: tmp.file("m"), module: "example.com/Org/Repo", version: "v1.0.0")
    }

    /// Zips Warren and the go command build from `directory` must list the same files,
    /// hash the same, and pass each other's checks. Returns the zip's entry names.
    @discardableResult
    func compareWithGo(directory: String, module: String, version: String) throws -> [String] {
        let tmp = TemporaryDirectory("differential")
        let ours = tmp.file("warren.zip"), theirs = tmp.file("go.zip")
        let file = try WritableFile(creating: ours)
        let result = try ModuleZipWriter.create(module: module, version: version, directory: directory, to: file)

        let goHash = try GoReference.run(["zipdir", module, version, directory, theirs])
        #expect(result.hash == goHash, "\(module)@\(version): Warren \(result.hash), go \(goHash)")
        #expect(try GoReference.run(["hashzip", ours]) == goHash, "go reads Warren's zip with a different hash")
        #expect(try Hash1.hashZip(path: theirs) == goHash, "Warren reads go's zip with a different hash")
        #expect(try GoReference.run(["checkzip", module, version, ours]).hasPrefix("ok"))
        #expect(try ModuleZipChecker.verify(module: module, version: version, zipPath: theirs).hash == goHash)
        // Hashed while streaming, both layouts give the same verdict as reading the file.
        try StreamingZipHasherTests.expectSameAsRead(theirs, module: module, version: version, chunks: [4093])
        try StreamingZipHasherTests.expectSameAsRead(ours, module: module, version: version, chunks: [65536])

        let ourNames = try ZipReader(path: ours).entries.map(\.name).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let goNames = try GoReference.run(["names", theirs]).split(separator: "\n").map(String.init)
        #expect(ourNames == goNames)
        return ourNames
    }
}
