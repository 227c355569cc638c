import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization
import WarrenCore

/// A GOPROXY upstream for tests: serves a directory, counts requests per path, and
/// misbehaves on demand (status codes, delays, truncated or replaced bodies, huge
/// declared lengths), so every upstream fault can be produced on loopback.
final class FaultyUpstream: @unchecked Sendable {
    enum Fault: Sendable {
        case status(Int, String)
        /// Wait before answering (response-header timeouts).
        case delay(Double)
        /// Send the head and this many bytes, then stall this long before the rest.
        case slowBody(afterBytes: Int, pause: Double)
        /// Declare the full length but close after this many bytes.
        case truncate(Int)
        /// Serve these bytes instead of the file.
        case replace([UInt8])
        /// Declare a Content-Length larger than any module zip may be.
        case hugeLength
        /// Send the head and this many bytes, then the rest once the test opens `gate`.
        case gatedBody(afterBytes: Int, gate: Gate)
        /// Answer nothing until the test opens `gate`, then answer normally.
        case gated(Gate)
        /// Every `n`th request (of any path) waits this long: a p99 far above the p50.
        case slowEvery(Int, Double)
    }

    /// Holds part of an answer back until the test says so: an event, not a delay.
    typealias Gate = OneTimeSignal

    let root: String
    private let faults = Mutex<[String: Fault]>([:])
    /// The fault of every path that has none of its own.
    private let defaultFault = Mutex<Fault?>(nil)
    private let requestNumber = Mutex(0)
    private let counts = Mutex<[String: Int]>([:])
    private var task: Task<Void, any Error>?
    private(set) var port = 0

    init(root: String) {
        self.root = root
    }

    var url: String { "http://127.0.0.1:\(port)" }

    func setFault(_ path: String, _ fault: Fault?) { faults.withLock { $0[path] = fault } }
    func clearFaults() {
        faults.withLock { $0 = [:] }
        defaultFault.withLock { $0 = nil }
    }
    func setDefaultFault(_ fault: Fault?) { defaultFault.withLock { $0 = fault } }
    func count(_ path: String) -> Int { counts.withLock { $0[path] ?? 0 } }
    /// Requests of any path.
    var totalCount: Int { counts.withLock { $0.values.reduce(0, +) } }
    func resetCounts() { counts.withLock { $0 = [:] } }

    func start() async throws {
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        let responder = Responder(owner: self)
        let app = Application(
            responder: responder,
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "faulty-upstream"),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) }
        )
        task = Task { try await app.run() }
        for await p in stream {
            port = p
            break
        }
    }

    func stop() {
        task?.cancel()
    }

    struct Responder: HTTPResponder {
        typealias Context = BasicRequestContext
        let owner: FaultyUpstream

        func respond(to request: Request, context: Context) async throws -> Response {
            // Counted by the decoded path, or the raw one when it does not decode: a path
            // that fails to decode must still be seen if Warren ever forwarded it.
            let raw = String(request.uri.path.dropFirst())
            let path = raw.removingPercentEncoding ?? raw
            owner.counts.withLock { $0[path, default: 0] += 1 }
            let number = owner.requestNumber.withLock { n in n += 1; return n }
            let fault = owner.faults.withLock { $0[path] } ?? owner.defaultFault.withLock { $0 }
            if case .slowEvery(let n, let seconds)? = fault, number % n == 0 {
                try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            }
            if case .gated(let gate)? = fault {
                await gate.wait()
            }
            if case .delay(let seconds)? = fault {
                try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            }
            if case .status(let code, let text)? = fault {
                return Response(status: .init(code: code), headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: text)))
            }
            var bytes: [UInt8]
            if case .replace(let b)? = fault {
                bytes = b
            } else {
                guard !path.contains(".."), let data = FileManager.default.contents(atPath: owner.root + "/" + path) else {
                    return Response(status: .notFound, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: "not found: \(path)")))
                }
                bytes = Array(data)
            }
            switch fault {
            case .truncate(let n)?:
                let total = bytes.count
                let part = ByteBuffer(bytes: bytes.prefix(n))
                return Response(status: .ok, headers: [.contentLength: String(total)], body: .init(contentLength: total) { writer in
                    try await writer.write(part)
                    throw CancellationError()  // cut the connection mid-body
                })
            case .slowBody(let after, let pause)?:
                let head = ByteBuffer(bytes: bytes.prefix(after)), rest = ByteBuffer(bytes: bytes.dropFirst(after))
                return Response(status: .ok, body: .init(contentLength: bytes.count) { writer in
                    try await writer.write(head)
                    try await Task.sleep(for: .milliseconds(Int(pause * 1000)))
                    try await writer.write(rest)
                    try await writer.finish(nil)
                })
            case .gatedBody(let after, let gate)?:
                let head = ByteBuffer(bytes: bytes.prefix(after)), rest = ByteBuffer(bytes: bytes.dropFirst(after))
                return Response(status: .ok, body: .init(contentLength: bytes.count) { writer in
                    try await writer.write(head)
                    await gate.wait()
                    try await writer.write(rest)
                    try await writer.finish(nil)
                })
            case .hugeLength?:
                let first = ByteBuffer(bytes: bytes)
                return Response(status: .ok, headers: [.contentLength: "700000000"], body: .init(contentLength: 700_000_000) { writer in
                    try await writer.write(first)
                    try await Task.sleep(for: .seconds(30))
                })
            default:
                return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
            }
        }
    }
}

/// The usual set-up of a server test: a `FaultyUpstream` serving the module fixture and a
/// `warren serve` in front of it (no retries, so faults show at once).
func startProxyOnFixture(_ extra: [String] = [], fileLimit: Int? = nil) async throws -> (FaultyUpstream, WarrenServerProcess) {
    let upstream = FaultyUpstream(root: ModuleFixture.shared.root)
    try await upstream.start()
    do {
        let warren = try await WarrenServerProcess.start(arguments: ["--upstream", upstream.url, "--retries", "0"] + extra, fileLimit: fileLimit)
        return (upstream, warren)
    } catch {
        upstream.stop()
        throw error
    }
}
