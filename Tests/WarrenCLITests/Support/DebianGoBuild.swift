import Foundation
import TestServers

/// Builds one of the repository's Go tools (`Tools/NAME`) with Debian's Go and the x/mod
/// sources Debian ships under /usr/share/gocode (GOPATH mode: no network, no go.mod).
enum DebianGoBuild {
    static func build(tool: String) throws -> String {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Tools/" + tool).path
        let out = FileManager.default.temporaryDirectory.path + "/warren-\(tool)-\(getpid())"
        var env = ProcessInfo.processInfo.environment
        env["GO111MODULE"] = "off"
        env["GOPATH"] = "/usr/share/gocode"
        env["GOFLAGS"] = ""
        let build = try TestProcess.run("/usr/bin/env", ["go", "build", "-o", out, "."], environment: env, directory: source)
        guard build.status == 0 else { throw POSIXError(.ENOEXEC) }
        return out
    }
}
