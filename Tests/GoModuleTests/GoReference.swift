import Foundation
@testable import GoModule

/// The go command's own module code (golang.org/x/mod from Debian), built once per test
/// run from Tests/Fixtures/goref, so that Warren's zips and hashes are compared with the
/// real thing rather than with numbers written down by hand.
enum GoReference {
    struct Unavailable: Error, CustomStringConvertible { let description: String }

    static let binary: Result<String, Unavailable> = build()

    static func path() throws -> String { try binary.get() }

    /// Runs goref and returns its trimmed standard output; throws on a non-zero exit.
    static func run(_ args: [String]) throws -> String {
        let r = try GoModuleTests.run(try path(), args)
        guard r.status == 0 else {
            throw Unavailable(description: "goref \(args.joined(separator: " ")) failed (\(r.status)): \(r.stderr)\(r.stdout)")
        }
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static func build() -> Result<String, Unavailable> {
        guard let go = which("go") else {
            return .failure(Unavailable(description: "the go command is not installed (apt-get install golang-go)"))
        }
        guard FileManager.default.fileExists(atPath: "/usr/share/gocode/src/golang.org/x/mod/zip/zip.go") else {
            return .failure(Unavailable(description: "golang.org/x/mod sources are missing (apt-get install golang-golang-x-mod-dev)"))
        }
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Tools/goref").path
        let out = FileManager.default.temporaryDirectory.path + "/warren-goref-\(getpid())"
        var env = ProcessInfo.processInfo.environment
        env["GO111MODULE"] = "off"
        env["GOPATH"] = "/usr/share/gocode"
        env["GOFLAGS"] = ""
        env["CGO_ENABLED"] = "0"
        if env["GOCACHE"] == nil { env["GOCACHE"] = FileManager.default.temporaryDirectory.path + "/warren-gocache" }
        do {
            let r = try GoModuleTests.run(go, ["build", "-o", out, "."], environment: env, directory: source)
            guard r.status == 0 else { return .failure(Unavailable(description: "building goref failed: \(r.stderr)")) }
            return .success(out)
        } catch {
            return .failure(Unavailable(description: "building goref failed: \(error)"))
        }
    }
}
