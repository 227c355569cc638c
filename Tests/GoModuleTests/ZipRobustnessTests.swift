import Foundation
import Testing
@testable import GoModule

/// Hostile and broken zips: every one is refused with a clear reason, none crashes, and
/// none makes the reader produce more data than the zip declares.
@Suite struct ZipRobustnessTests {
    let module = "example.com/m"
    let version = "v1.0.0"
    var prefix: String { "\(module)@\(version)/" }

    func verifyError(_ zipPath: String) -> String? {
        do {
            _ = try ModuleZipChecker.verify(module: module, version: version, zipPath: zipPath)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func validZipVerifies() throws {
        let tmp = TemporaryDirectory()
        try makeZip(at: tmp.file("ok.zip"), entries: [
            (Array((prefix + "go.mod").utf8), Array("module example.com/m\n".utf8)),
            (Array((prefix + "m.go").utf8), Array("package m\n".utf8)),
        ])
        let v = try ModuleZipChecker.verify(module: module, version: version, zipPath: tmp.file("ok.zip"))
        #expect(v.checked.valid.count == 2)
        #expect(v.goMod == Array("module example.com/m\n".utf8))
        #expect(v.hash == (try Hash1.hashZip(path: tmp.file("ok.zip"))))
    }

    /// An entry that inflates to far more than its header says is cut off at the
    /// declared size, not read to the end.
    @Test func zipBombIsStoppedAtTheDeclaredSize() throws {
        let tmp = TemporaryDirectory()
        let big = [UInt8](repeating: 0, count: 20 << 20)
        var compressed: [UInt8] = []
        try big.withUnsafeBytes { raw in
            try Deflater(level: 1).compress(raw, finish: true) { compressed.append(contentsOf: $0) }
        }
        let file = try WritableFile(creating: tmp.file("bomb.zip"))
        let writer = ZipWriter(sink: file)
        try writer.addEntry(name: Array((prefix + "bomb.txt").utf8), method: ZipWriter.methodDeflate, crc: 0,
                            uncompressedSize: 1000, compressed: compressed)
        try writer.finish()
        var delivered = 0
        let reader = try ZipReader(path: tmp.file("bomb.zip"))
        #expect(throws: ZipFormatError.self) {
            try reader.read(reader.entries[0]) { delivered += $0.count }
        }
        #expect(delivered <= 1000 + 64 * 1024)
        #expect(verifyError(tmp.file("bomb.zip"))?.contains("larger than declared size") == true)
    }

    /// Declared sizes beyond the 500 MiB limit are refused from the directory alone.
    @Test func declaredSizesOverTheLimit() throws {
        let tmp = TemporaryDirectory()
        let file = try WritableFile(creating: tmp.file("huge.zip"))
        let writer = ZipWriter(sink: file)
        for name in ["a.bin", "b.bin"] {
            try writer.addEntry(name: Array((prefix + name).utf8), method: ZipWriter.methodStore, crc: 0,
                                uncompressedSize: 300 << 20, compressed: [])
        }
        try writer.addEntry(name: Array((prefix + "go.mod").utf8), method: ZipWriter.methodStore, crc: 0,
                            uncompressedSize: 17 << 20, compressed: [])
        try writer.finish()
        let cf = try ModuleZipChecker.check(module: module, version: version, zipPath: tmp.file("huge.zip"))
        #expect(cf.sizeError == "total uncompressed size of module contents too large (max size is 524288000 bytes)")
        #expect(cf.invalid.map(\.reason) == ["go.mod file too large (max size is 16777216 bytes)"])
        #expect(verifyError(tmp.file("huge.zip")) != nil)
    }

    @Test func badNamesAreRefused() throws {
        let cases: [(String, String)] = [
            (prefix + "../evil.go", "malformed file path \"../evil.go\": invalid path element \"..\""),
            (prefix + "a/../../evil.go", "file path is not clean"),
            (prefix + "/abs.go", "malformed file path \"/abs.go\": empty path element"),
            ("other.com/m@v1.0.0/x.go", "path does not have prefix"),
            ("../../etc/passwd", "path does not have prefix"),
            (prefix + "sub/go.mod", "go.mod file not in module root directory"),
            (prefix + "a\u{0}b", "invalid char '\\x00'"),
            (prefix + "COM1.go", "disallowed as path element component on Windows"),
        ]
        for (name, reason) in cases {
            let tmp = TemporaryDirectory()
            try makeZip(at: tmp.file("t.zip"), entries: [(Array(name.utf8), Array("x".utf8))])
            let error = verifyError(tmp.file("t.zip"))
            if error?.contains(reason) != true { Issue.record("\(name): \(error ?? "accepted")") }
        }
        let tmp = TemporaryDirectory()
        try makeZip(at: tmp.file("dup.zip"), entries: [
            (Array((prefix + "a.go").utf8), [1]), (Array((prefix + "a.go").utf8), [2]),
            (Array((prefix + "B.go").utf8), [1]), (Array((prefix + "b.go").utf8), [2]),
        ])
        let error = verifyError(tmp.file("dup.zip")) ?? ""
        #expect(error.contains("multiple entries for file \"a.go\""))
        #expect(error.contains("case-insensitive file name collision: \"B.go\" and \"b.go\""))
        try makeZip(at: tmp.file("utf8.zip"), entries: [(Array(prefix.utf8) + [0xFF, 0x2E, 0x67, 0x6F], [1])])
        #expect(verifyError(tmp.file("utf8.zip"))?.contains("invalid UTF-8") == true)
    }

    /// Every prefix of a valid zip, and a zip with a corrupted body, is refused.
    @Test func truncatedAndCorruptZips() throws {
        let tmp = TemporaryDirectory()
        let entries: [(name: [UInt8], data: [UInt8])] = (0..<5).map { i in
            (Array((prefix + "f\(i).go").utf8), Array(String(repeating: "package m // \(i)\n", count: 200).utf8))
        }
        try makeZip(at: tmp.file("ok.zip"), entries: entries)
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: tmp.file("ok.zip"))))
        for cut in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 97)) {
            try Data(bytes[..<cut]).write(to: URL(fileURLWithPath: tmp.file("cut.zip")))
            #expect(verifyError(tmp.file("cut.zip")) != nil, "a zip cut at \(cut) of \(bytes.count) bytes verified")
        }
        // Flip a byte inside the first entry's compressed data: CRC or inflate must catch it.
        var corrupt = bytes
        corrupt[30 + entries[0].name.count + 10] ^= 0x55
        try Data(corrupt).write(to: URL(fileURLWithPath: tmp.file("corrupt.zip")))
        #expect(verifyError(tmp.file("corrupt.zip")) != nil)
        try Data("not a zip at all".utf8).write(to: URL(fileURLWithPath: tmp.file("text.zip")))
        #expect(verifyError(tmp.file("text.zip"))?.contains("not a valid zip file") == true)
    }

    @Test func versionMustBeCanonicalAndFitThePath() throws {
        let tmp = TemporaryDirectory()
        try makeZip(at: tmp.file("t.zip"), entries: [])
        #expect(throws: ModuleZipError.self) { try ModuleZipChecker.check(module: module, version: "v1.0", zipPath: tmp.file("t.zip")) }
        #expect(throws: ModuleZipError.self) { try ModuleZipChecker.check(module: module, version: "v2.0.0", zipPath: tmp.file("t.zip")) }
        #expect(throws: ModuleZipError.self) { try ModuleZipChecker.check(module: "Bad/path", version: version, zipPath: tmp.file("t.zip")) }
    }
}

/// The creation-side limits and the go 1.24 vendor rule, on files that exist only as sizes.
@Suite struct ZipRulesTests {
    func sized(_ path: String, _ size: Int64) -> ModuleSourceFile {
        ModuleSourceFile(path: path, kind: .regular(size: size), contents: .bytes([]))
    }

    @Test func sizeLimits() {
        let (tooBig, _) = ModuleZipRules.check([sized("a.bin", 300 << 20), sized("b.bin", 201 << 20)])
        #expect(tooBig.sizeError == "module source tree too large (max size is 524288000 bytes)")
        let (exactly, _) = ModuleZipRules.check([sized("a.bin", 300 << 20), sized("b.bin", 200 << 20)])
        #expect(exactly.sizeError == nil)
        let (goMod, _) = ModuleZipRules.check([sized("go.mod", (16 << 20) + 1), sized("LICENSE", (16 << 20) + 1), sized("sub/LICENSE", 17 << 20)])
        #expect(goMod.invalid.map(\.description) == [
            "go.mod: go.mod file too large (max size is 16777216 bytes)",
            "LICENSE: LICENSE file too large (max size is 16777216 bytes)",
        ])
        #expect(goMod.valid == ["sub/LICENSE"])
    }

    @Test func vendorRulesBeforeAndAfterGo124() {
        let old: String? = "1.23"
        let new: String? = "1.24"
        #expect(!ModuleZipRules.isVendoredPackage("vendor/modules.txt", goVersion: old))
        #expect(ModuleZipRules.isVendoredPackage("vendor/modules.txt", goVersion: new))
        #expect(!ModuleZipRules.isVendoredPackage("vendor/a.go", goVersion: new))
        #expect(ModuleZipRules.isVendoredPackage("vendor/x/a.go", goVersion: old))
        // The historical quirk (golang.org/issue/31562) and its go 1.24 correction.
        #expect(ModuleZipRules.isVendoredPackage("pkg/vendor/vendor.go", goVersion: old))
        #expect(!ModuleZipRules.isVendoredPackage("pkg/vendor/vendor.go", goVersion: new))
        #expect(ModuleZipRules.isVendoredPackage("pkg/vendor/foo/foo.go", goVersion: new))
        #expect(ModuleZipRules.isVendoredPackage("pkg/vendor/foo/foo.go", goVersion: nil))
        #expect(!ModuleZipRules.isVendoredPackage("vendorx/a/b.go", goVersion: old))

        let files = ["go.mod", "vendor/modules.txt", "pkg/vendor/vendor.go", "a.go"].map {
            ModuleSourceFile.memory($0, $0 == "go.mod" ? Array("module example.com/m\n\ngo 1.24\n".utf8) : [0x0A])
        }
        let (cf, _) = ModuleZipRules.check(files)
        #expect(cf.valid == ["go.mod", "pkg/vendor/vendor.go", "a.go"])
        #expect(cf.omitted.map(\.path) == ["vendor/modules.txt"])
    }

    @Test func createRejectsBadModules() {
        let sink = MemorySink()
        let files = [ModuleSourceFile.memory("a.go", [1])]
        for (path, version, message) in [
            ("example.com/m", "v1.0", "version \"v1.0\" is not canonical (should be \"v1.0.0\")"),
            ("example.com/m", "v2.0.0", "invalid version: should be v0 or v1, not v2"),
            ("example/m", "v1.0.0", "missing dot in first path element"),
        ] {
            do {
                _ = try ModuleZipWriter.create(module: path, version: version, files: files, to: sink)
                Issue.record("created \(path)@\(version)")
            } catch {
                #expect("\(error)".contains(message), "\(error)")
            }
        }
    }

    /// Large files take the streaming path; the result must hash like the in-memory one.
    @Test func largeFilesAreStreamed() throws {
        var big = [UInt8](repeating: 0, count: 3 << 20)
        var state: UInt64 = 42
        for i in big.indices where i % 3 == 0 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            big[i] = UInt8(truncatingIfNeeded: state >> 33)
        }
        let tmp = TemporaryDirectory()
        let file = try WritableFile(creating: tmp.file("big.zip"))
        let r = try ModuleZipWriter.create(module: "example.com/m", version: "v1.0.0",
                                           files: [.memory("big.bin", big), .memory("small.go", [1, 2, 3])], to: file)
        #expect(try Hash1.hashZip(path: tmp.file("big.zip")) == r.hash)
        let reader = try ZipReader(path: tmp.file("big.zip"))
        var back: [UInt8] = []
        try reader.read(reader.entries[0]) { back.append(contentsOf: $0) }
        #expect(back == big)
    }
}
