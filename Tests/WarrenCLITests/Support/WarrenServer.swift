import AsyncHTTPClient
import Foundation
import TestServers
import NIOCore
import NIOHTTP1

/// A `warren serve` process on a loopback port, with its own data directory, stopped
/// (or killed) by the test.
final class WarrenServerProcess: @unchecked Sendable {
    let process: TestProcess
    let dataDir: String
    let port: Int
    let ownsDataDir: Bool

    /// Starts `warren serve --listen 127.0.0.1:0 …` and waits until it listens.
    /// `defaultSumDB`: leave the checksum database settings alone (otherwise, unless the
    /// arguments name one, `--sumdb off`).
    /// `fileLimit`: run under `ulimit -n` of that many descriptors (soft and hard).
    init(arguments: [String], dataDir: String? = nil, environment: [String: String] = [:], defaultSumDB: Bool = false,
         fileLimit: Int? = nil) throws {
        ownsDataDir = dataDir == nil
        self.dataDir = dataDir ?? FileManager.default.temporaryDirectory.path + "/warren-data-\(UUID().uuidString)"
        // The fixture's modules are not in sum.golang.org (and it is not reachable from
        // tests): verification is off unless a test names its own database.
        let sumdb = arguments.contains("--sumdb") || defaultSumDB ? [] : ["--sumdb", "off"]
        let serveArguments = ["serve", "--listen", "127.0.0.1:0", "--data-dir", self.dataDir] + sumdb + arguments
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("WARREN_") }
        env.merge(environment) { _, new in new }
        if let fileLimit {
            // The shell execs warren: same process id, lowered limit.
            process = try TestProcess("/bin/sh", ["-c", "ulimit -n \(fileLimit) && exec \"$0\" \"$@\"", WarrenBinary.path] + serveArguments,
                                      environment: env)
        } else {
            process = try TestProcess(WarrenBinary.path, serveArguments, environment: env)
        }
        // The "listening on" line (port 0 picks a free port), or the end of its output.
        let out = process.stdout.waitFor(timeout: 20) { $0.contains("warren: listening on") && $0.hasSuffix("\n") }
        if let line = out.split(separator: "\n").first(where: { $0.hasPrefix("warren: listening on") }),
           let p = Int(line.split(separator: ":").last ?? "") {
            port = p
            return
        }
        process.kill9()
        throw StartFailure(description: "warren serve did not start: \(out) \(process.stderr.text)")
    }

    struct StartFailure: Error, CustomStringConvertible { let description: String }

    /// The same, waiting on a thread of its own: starting a server (migrations, a bucket
    /// check) can take seconds, and a test that blocks one of the concurrency runtime's
    /// two threads that long starves the servers other tests run in this process.
    static func start(arguments: [String], dataDir: String? = nil, environment: [String: String] = [:],
                      defaultSumDB: Bool = false, fileLimit: Int? = nil) async throws -> WarrenServerProcess {
        try await offThread {
            try WarrenServerProcess(arguments: arguments, dataDir: dataDir, environment: environment,
                                    defaultSumDB: defaultSumDB, fileLimit: fileLimit)
        }
    }

    var url: String { "http://127.0.0.1:\(port)" }
    var pid: Int32 { process.pid }
    var stderr: String { process.stderr.text }

    /// SIGTERM and wait for a clean exit; returns the exit status.
    @discardableResult
    func stop() -> Int32 {
        process.terminate()
    }

    /// SIGKILL: the crash case.
    func kill() {
        process.kill9()
    }

    deinit {
        process.kill9()
        if ownsDataDir { try? FileManager.default.removeItem(atPath: dataDir) }
    }
}

final class LogBuffer: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func append(_ d: Data) { lock.lock(); data.append(d); lock.unlock() }
    var text: String { lock.lock(); defer { lock.unlock() }; return String(decoding: data, as: UTF8.self) }
}

/// A plain HTTP exchange with the proxy.
struct HTTPExchange {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]
    var text: String { String(decoding: body, as: UTF8.self) }
}

enum HTTP {
    static func get(_ url: String, method: HTTPMethod = .GET, headers: [(String, String)] = [], body: String? = nil,
                    timeout: Int64 = 60) async throws -> HTTPExchange {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        for (k, v) in headers { request.headers.add(name: k, value: v) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(timeout))
        var body: [UInt8] = []
        for try await chunk in response.body { body.append(contentsOf: chunk.readableBytesView) }
        return HTTPExchange(status: Int(response.status.code), headers: response.headers, body: body)
    }
}
