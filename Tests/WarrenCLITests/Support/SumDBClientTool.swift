import Foundation
import TestServers

/// Tools/sumdbclient: x/mod's own checksum database client code, built once per test
/// process with Debian's Go and x/mod, to check Warren's log from the other side.
enum SumDBClientTool {
    static let binary: Result<String, any Error> = Result { try DebianGoBuild.build(tool: "sumdbclient") }

    /// Looks up each `module@version` and proves the whole log; the output and status.
    static func check(url: String, key: String, _ lookups: [String]) async throws -> WarrenBinary.Output {
        try await ExternalCommand.run(try binary.get(), ["-url", url, "-key", key] + lookups, environment: ["PATH": "/usr/bin:/bin"])
    }
}
