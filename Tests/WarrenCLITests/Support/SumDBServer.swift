import AsyncHTTPClient
import Foundation
import TestServers

/// A checksum database on loopback: Tools/sumdbtest (x/mod's own sumdb server over the
/// module fixture), built once per test process with Debian's Go and x/mod.
final class SumDBServer: @unchecked Sendable {
    let process: TestProcess
    let url: String
    let verifierKey: String

    static let binary: Result<String, any Error> = Result { try DebianGoBuild.build(tool: "sumdbtest") }

    /// Every path the database was asked for, in order.
    var requests: [String] {
        process.stdout.text.split(separator: "\n").compactMap { $0.hasPrefix("GET ") ? String($0.dropFirst(4)) : nil }
    }

    /// `filler` made-up records start the log (300 gives it a full tile).
    init(root: String, name: String = "sum.test", filler: Int = 0) throws {
        process = try TestProcess(try Self.binary.get(), ["-dir", root, "-name", name, "-filler", String(filler)])
        let text = process.stdout.waitFor(timeout: 20) { text in
            text.split(separator: "\n").contains { $0.hasPrefix("listening ") }
        }
        let lines = text.split(separator: "\n")
        guard let key = lines.first(where: { $0.hasPrefix("vkey ") })?.dropFirst(5),
              let address = lines.first(where: { $0.hasPrefix("listening ") })?.dropFirst(10)
        else {
            process.kill9()
            throw POSIXError(.EPROTO)
        }
        verifierKey = String(key)
        url = "http://" + address
    }

    /// Makes every answer wrong in one way from now on (see Tools/sumdbtest); "" heals.
    func breakAnswers(_ mode: String) async throws {
        var request = HTTPClientRequest(url: url + "/break?what=" + mode)
        request.method = .POST
        _ = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
    }

    /// Appends `n` made-up records to the log (other modules' releases).
    func grow(_ n: Int) async throws {
        var request = HTTPClientRequest(url: url + "/grow?n=\(n)")
        request.method = .POST
        _ = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
    }

    /// Makes the database serve a different log from now on.
    func fork() async throws {
        var request = HTTPClientRequest(url: url + "/fork")
        request.method = .POST
        _ = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
    }

    func stop() {
        process.terminate()
    }
}
