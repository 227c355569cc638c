import Foundation
import Testing
@testable import GoModule

/// The zip test cases of golang.org/x/mod (Debian's golang-golang-x-mod-dev), read at test
/// time: every expected hash, error and file classification must come out the same.
@Suite struct XModZipCasesTests {
    @Test func testDataIsInstalled() {
        #expect(!txtarCases("create").isEmpty, "install golang-golang-x-mod-dev: \(xmodZipTestData) is missing")
        #expect(!txtarCases("check_zip").isEmpty)
    }

    @Test(arguments: txtarCases("create"))
    func createFromFileList(casePath: String) throws {
        let test = try readTxtar(casePath)
        let files = test.files.map { ModuleSourceFile.memory($0.name, $0.data) }
        let modulePath = try #require(String(validating: test.parameters["path"] ?? [], as: UTF8.self) ?? Optional("\u{FFFD}"))
        try expectCreate(test, modulePath: modulePath) { sink in
            try ModuleZipWriter.create(module: modulePath, version: test.parameter("version"), files: files, to: sink)
        }
    }

    @Test(arguments: txtarCases("create_from_dir"))
    func createFromDirectory(casePath: String) throws {
        let test = try readTxtar(casePath)
        let dir = TemporaryDirectory("create-from-dir")
        for f in test.files { try dir.write(f.name, f.data) }
        let modulePath = String(validating: test.parameters["path"] ?? [], as: UTF8.self) ?? "\u{FFFD}"
        try expectCreate(test, modulePath: modulePath) { sink in
            try ModuleZipWriter.create(module: modulePath, version: test.parameter("version"), directory: dir.path, to: sink)
        }
    }

    private func expectCreate(_ test: Txtar, modulePath: String, _ create: (ByteSink) throws -> ModuleZipWriter.Result) throws {
        let wantErr = test.parameter("wantErr")
        let dir = TemporaryDirectory("create")
        let zipPath = dir.file("out.zip")
        let file = try WritableFile(creating: zipPath)
        do {
            let result = try create(file)
            #expect(wantErr.isEmpty, "created a zip, wanted error \(wantErr)")
            let want = test.parameter("hash")
            #expect(result.hash == want)
            // The zip on disk must hash the same when read back.
            #expect(try Hash1.hashZip(path: zipPath) == want)
        } catch {
            if wantErr.hasPrefix("malformed module path \"\\xff\"") {
                // The path is the byte 0xFF, which a Swift String cannot hold; the byte-level
                // check must still name it exactly.
                #expect(throws: InvalidPathError.self) { try PathRules.checkModulePath(bytes: [0xFF]) }
                do { try PathRules.checkModulePath(bytes: [0xFF]) } catch { #expect(error.description == wantErr) }
            } else {
                #expect(!wantErr.isEmpty && "\(error)".contains(wantErr), "got \(error), want \(wantErr)")
            }
        }
    }

    @Test(arguments: txtarCases("check_files"))
    func checkFiles(casePath: String) throws {
        let (test, want) = try readCaseWithWant(casePath)
        let (cf, _) = ModuleZipRules.check(test.files.map { ModuleSourceFile.memory($0.name, $0.data) })
        #expect(format(cf) == String(decoding: want, as: UTF8.self))
    }

    @Test(arguments: txtarCases("check_dir"))
    func checkDirectory(casePath: String) throws {
        let (test, want) = try readCaseWithWant(casePath)
        let dir = TemporaryDirectory("check-dir")
        for f in test.files { try dir.write(f.name, f.data) }
        let cf = try ModuleDirectory.check(dir.path)
        #expect(format(cf, pathPrefix: "$work/") == String(decoding: want, as: UTF8.self))
    }

    @Test(arguments: txtarCases("check_zip"))
    func checkZip(casePath: String) throws {
        let (test, want) = try readCaseWithWant(casePath)
        let dir = TemporaryDirectory("check-zip")
        try makeZip(at: dir.file("t.zip"), entries: test.files.map { (Array($0.name.utf8), $0.data) })
        let cf = try ModuleZipChecker.check(module: test.parameter("path"), version: test.parameter("version"), zipPath: dir.file("t.zip"))
        #expect(format(cf) == String(decoding: want, as: UTF8.self))
    }

    /// x/mod's unzip cases: a zip either verifies or fails with the expected reason.
    @Test(arguments: txtarCases("unzip"))
    func verifyZip(casePath: String) throws {
        let test = try readTxtar(casePath)
        let dir = TemporaryDirectory("unzip")
        try makeZip(at: dir.file("t.zip"), entries: test.files.map { (Array($0.name.utf8), $0.data) })
        let wantErr = test.parameter("wantErr")
        let modulePath = String(validating: test.parameters["path"] ?? [], as: UTF8.self) ?? "\u{FFFD}"
        do {
            _ = try ModuleZipChecker.verify(module: modulePath, version: test.parameter("version"), zipPath: dir.file("t.zip"))
            #expect(wantErr.isEmpty, "verified, wanted error \(wantErr)")
        } catch {
            if wantErr.hasPrefix("malformed module path \"\\xff\"") {
                #expect("\(error)".contains("malformed module path"))
            } else {
                #expect(!wantErr.isEmpty && "\(error)".contains(wantErr), "got \(error), want \(wantErr)")
            }
        }
    }

    /// A case file and its `want` section, which is not one of the module's files.
    private func readCaseWithWant(_ path: String) throws -> (Txtar, [UInt8]) {
        var test = try readTxtar(path)
        let want = try #require(test.files.first { $0.name == "want" }).data
        test.files.removeAll { $0.name == "want" }
        return (test, want)
    }
}
