import AsyncHTTPClient
import Foundation

/// A checksum database on loopback: Tools/sumdbtest (x/mod's own sumdb server over the
/// module fixture), built once per test process with Debian's Go and x/mod.
final class SumDBServer: @unchecked Sendable {
    let process = Process()
    let url: String
    let verifierKey: String

    static let binary: Result<String, any Error> = Result {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Tools/sumdbtest").path
        let out = FileManager.default.temporaryDirectory.path + "/warren-sumdbtest-\(getpid())"
        let build = Process()
        build.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        build.arguments = ["go", "build", "-o", out, "."]
        build.currentDirectoryURL = URL(fileURLWithPath: source)
        var env = ProcessInfo.processInfo.environment
        env["GO111MODULE"] = "off"
        env["GOPATH"] = "/usr/share/gocode"
        env["GOFLAGS"] = ""
        build.environment = env
        try build.run()
        build.waitUntilExit()
        guard build.terminationStatus == 0 else { throw POSIXError(.ENOEXEC) }
        return out
    }

    /// Every path the database was asked for, in order.
    private let requestLog = LogBuffer()
    var requests: [String] {
        requestLog.text.split(separator: "\n").compactMap { $0.hasPrefix("GET ") ? String($0.dropFirst(4)) : nil }
    }

    /// `filler` made-up records start the log (300 gives it a full tile).
    init(root: String, name: String = "sum.test", filler: Int = 0) throws {
        process.executableURL = URL(fileURLWithPath: try Self.binary.get())
        process.arguments = ["-dir", root, "-name", name, "-filler", String(filler)]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.standardError
        try process.run()
        var text = ""
        let deadline = Date().addingTimeInterval(20)
        while !text.contains("listening "), Date() < deadline {
            let data = out.fileHandleForReading.availableData
            if data.isEmpty { break }
            text += String(decoding: data, as: UTF8.self)
        }
        let lines = text.split(separator: "\n")
        guard let key = lines.first(where: { $0.hasPrefix("vkey ") })?.dropFirst(5),
              let address = lines.first(where: { $0.hasPrefix("listening ") })?.dropFirst(10)
        else {
            process.terminate()
            throw POSIXError(.EPROTO)
        }
        verifierKey = String(key)
        url = "http://" + address
        let log = requestLog
        log.append(Data(text.utf8))
        out.fileHandleForReading.readabilityHandler = { h in log.append(h.availableData) }
    }

    /// Makes every answer wrong in one way from now on (see Tools/sumdbtest); "" heals.
    func breakAnswers(_ mode: String) async throws {
        var request = HTTPClientRequest(url: url + "/break?what=" + mode)
        request.method = .POST
        _ = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
    }

    /// Makes the database serve a different log from now on.
    func fork() async throws {
        var request = HTTPClientRequest(url: url + "/fork")
        request.method = .POST
        _ = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
    }

    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}
