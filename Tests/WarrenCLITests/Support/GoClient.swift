import Foundation

/// The real go command (Go from Debian's golang-go) as Warren's client, with a fresh
/// module cache and no access to anything but the proxy under test.
final class GoClient: @unchecked Sendable {
    let home = FileManager.default.temporaryDirectory.path + "/warren-goclient-\(UUID().uuidString)"
    let proxy: String
    /// Overrides of the default environment (GOSUMDB, GONOSUMDB, …).
    let extraEnvironment: [String: String]

    init(proxy: String, environment: [String: String] = [:]) {
        self.proxy = proxy
        self.extraEnvironment = environment
        try? FileManager.default.createDirectory(atPath: home + "/work", withIntermediateDirectories: true)
    }

    deinit {
        // The module cache is read-only by design; make it writable to remove it.
        _ = try? runBlocking(["clean", "-modcache"], in: nil)
        try? FileManager.default.removeItem(atPath: home)
    }

    var workDir: String { home + "/work" }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs the go command on a thread of its own: the servers it talks to may live in
    /// this test process, and a go command waiting on them must not hold one of the
    /// concurrency runtime's few threads (two of them on a 2-core machine).
    func run(_ args: [String], in dir: String? = nil) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Swift.Result { try self.runBlocking(args, in: dir) })
            }
            thread.start()
        }
    }

    private func runBlocking(_ args: [String], in dir: String?) throws -> Result {
        guard let go = ["/usr/bin/go", "/usr/lib/go/bin/go"].first(where: FileManager.default.isExecutableFile(atPath:)) else {
            throw GoMissing()
        }
        let environment = [
            "HOME": home, "PATH": "/usr/bin:/bin", "GOPATH": home + "/gopath", "GOMODCACHE": home + "/gopath/pkg/mod",
            "GOCACHE": home + "/gocache", "GOPROXY": proxy, "GOSUMDB": "off", "GOFLAGS": "-mod=mod",
            "GONOSUMDB": "", "GOPRIVATE": "", "GO111MODULE": "on", "CGO_ENABLED": "0",
        ].merging(extraEnvironment) { _, new in new }
        let out = try ExternalCommand.runBlocking(go, args, environment: environment, in: dir ?? workDir)
        return Result(status: out.status, stdout: out.stdout, stderr: out.stderr)
    }

    struct GoMissing: Error, CustomStringConvertible {
        var description: String { "the go command is not installed (scripts/install-deps.sh test)" }
    }
}
