import Foundation
import GoModule

/// A GOPROXY file tree built by the tests from real module sources in Debian's
/// golang-*-dev packages, zipped by GoModule (whose zips the GoModule tests prove equal to
/// the go command's). It is both the upstream's content and the expected answers.
final class ModuleFixture: @unchecked Sendable {
    struct Module {
        var path: String
        var version: String
        var zipHash: String
        var modHash: String
        var zipSize: Int
    }

    let root: String
    private(set) var modules: [Module] = []

    static let sources: [(dir: String, path: String, version: String, time: String)] = [
        ("github.com/kr/text", "github.com/kr/text", "v0.2.0", "2020-02-14T20:31:06Z"),
        ("gopkg.in/yaml.v3", "gopkg.in/yaml.v3", "v3.0.1", "2022-05-27T08:35:30Z"),
        ("github.com/BurntSushi/toml", "github.com/BurntSushi/toml", "v1.2.1", "2022-10-16T12:00:00Z"),
        ("github.com/dgrijalva/jwt-go", "github.com/dgrijalva/jwt-go", "v3.2.0+incompatible", "2018-03-08T23:13:08Z"),
        ("github.com/google/go-cmp", "github.com/google/go-cmp", "v0.5.9", "2022-08-29T17:00:00Z"),
        ("golang.org/x/text", "golang.org/x/text", "v0.7.0", "2023-02-01T18:12:04Z"),
    ]

    /// Builds the tree once per test process (it takes a second or two).
    static let shared: ModuleFixture = {
        do {
            return try ModuleFixture()
        } catch {
            fatalError("cannot build the module fixture (are Debian's golang-*-dev packages installed? scripts/install-deps.sh test): \(error)")
        }
    }()

    init() throws {
        root = FileManager.default.temporaryDirectory.path + "/warren-fixture-\(getpid())"
        try? FileManager.default.removeItem(atPath: root)
        for s in Self.sources {
            try add(sourceDir: "/usr/share/gocode/src/" + s.dir, path: s.path, version: s.version, time: s.time)
        }
        // A second, older version so lists have more than one entry.
        try add(sourceDir: "/usr/share/gocode/src/github.com/kr/text", path: "github.com/kr/text", version: "v0.1.0", time: "2018-05-06T08:24:08Z")
        // Dependencies the go command needs the go.mod of (module graph), but never the zip.
        try addGoModOnly("github.com/creack/pty", "v1.1.9", "module github.com/creack/pty\n\ngo 1.13\n")
        try addGoModOnly("gopkg.in/check.v1", "v0.0.0-20161208181325-20d25e280405", "module gopkg.in/check.v1\n")
        // A list polluted with a pseudo-version and junk, as some upstreams serve.
        try write("github.com/kr/text/@v/list", "v0.1.0\nv0.2.0\nv0.0.0-20170101000000-abcdefabcdef\nnot-a-version\nv0.2.0\n")
        try write("github.com/kr/text/@latest", #"{"Version":"v0.2.0","Time":"2020-02-14T20:31:06Z"}"#)
    }

    func add(sourceDir: String, path: String, version: String, time: String) throws {
        let escaped = try PathEscaping.escapePath(path)
        let dir = root + "/" + escaped + "/@v"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let zipPath = dir + "/" + version + ".zip"
        let result = try ModuleZipWriter.create(module: path, version: version, directory: sourceDir,
                                                to: try WritableFile(creating: zipPath, exclusive: false))
        let goModPath = sourceDir + "/go.mod"
        let goMod: [UInt8] = FileManager.default.fileExists(atPath: goModPath)
            ? Array(try Data(contentsOf: URL(fileURLWithPath: goModPath)))
            : Array(GoModFile.synthesized(modulePath: path).utf8)
        try Data(goMod).write(to: URL(fileURLWithPath: dir + "/" + version + ".mod"))
        try write(escaped + "/@v/" + version + ".info", #"{"Version":"\#(version)","Time":"\#(time)"}"#)
        var list = (try? String(contentsOfFile: dir + "/list", encoding: .utf8)) ?? ""
        list += version + "\n"
        try write(escaped + "/@v/list", list)
        modules.append(Module(path: path, version: version, zipHash: result.hash, modHash: Hash1.hashGoMod(goMod),
                              zipSize: Int(result.zipSize)))
    }

    func addGoModOnly(_ path: String, _ version: String, _ goMod: String) throws {
        let escaped = try PathEscaping.escapePath(path)
        try write(escaped + "/@v/" + version + ".mod", goMod)
        try write(escaped + "/@v/" + version + ".info", #"{"Version":"\#(version)","Time":"2019-01-01T00:00:00Z"}"#)
    }

    func write(_ relative: String, _ text: String) throws {
        let url = URL(fileURLWithPath: root + "/" + relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    func module(_ path: String, _ version: String) -> Module? {
        modules.first { $0.path == path && $0.version == version }
    }

    /// The escaped request path of an artifact, e.g. `github.com/!burnt!sushi/toml/@v/v1.2.1.zip`.
    static func artifactPath(_ path: String, _ version: String, _ ext: String) -> String {
        ((try? PathEscaping.escapePath(path)) ?? path) + "/@v/" + version + "." + ext
    }
}
