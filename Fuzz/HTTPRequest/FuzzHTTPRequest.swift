import CFuzzerDriver
import Foundation
import FuzzSupport
import HTTPTypes
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
@testable import WarrenCore
@testable import WarrenServer

/// Raw request bytes, as any client may send them, through Warren's own connection
/// pipeline (guard, NIO's HTTP/1 decoder and encoder, the HTTP/1 rules, the fast path
/// with one cached answer) on an embedded channel, with a stand-in responder that parses
/// each request path as the proxy does and answers it. Timers are run forward so that
/// every timeout and lingering close is taken too.
///
/// What must hold for any input: no trap, and whatever Warren writes is HTTP/1 answers.
///
/// Built two ways: with `-D FUZZING -sanitize=fuzzer` (scripts/fuzz.sh) it is a
/// libFuzzer target; otherwise it replays the files named on its command line, which
/// is how the test suite runs the corpus.
enum HTTPRequestHarness {
    static let registry = ConnectionRegistry(limit: 1 << 20)
    static let table: HotResponseTable = {
        let table = HotResponseTable(capacity: 1 << 20, serverName: "warren")
        let served = ServedArtifact(body: .bytes(ByteBuffer(string: #"{"Version":"v1.0.0"}"#)),
                                    contentType: "application/json", etag: "\"h1:x\"", lastModified: 0,
                                    cachePolicy: .immutable, cacheStatus: .miss, origin: nil)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        table.remember(rawPath: "/example.com/m/@v/v1.0.0.info", served: served, headers: headers, endpoint: "info",
                       module: "example.com/m")
        table.remember(rawPath: "/corp.example.com/secret/@v/v1.0.0.info", served: served, headers: headers, endpoint: "info",
                       module: "corp.example.com/secret")
        return table
    }()
    /// Access rules for odd-length inputs: the fast path then checks every request's
    /// credentials (and the protected answer must never go out from it).
    static let access: AccessControl? = {
        guard let rule = try? AccessRule("group:corp read corp.example.com/*") else { return nil }
        return AccessControl(policy: AccessPolicy(anonymous: .fetch, rules: [rule], hideForbidden: false, metrics: .anonymous),
                             authenticator: Authenticator(tokens: nil, limiter: FailedAuthenticationLimiter(limit: 1 << 30)), audit: nil)
    }()
    static let limits = ClientLimits(headerTimeout: .seconds(10), idleTimeout: .seconds(60), sendTimeout: .seconds(60),
                                     minSendRate: 1024, maxConnections: 1 << 20, maxPipelined: 16, lingerTimeout: .seconds(5))
    static let logger = Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() })

    static func run(_ input: [UInt8]) {
        let channel = EmbeddedChannel()
        do {
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
            guard let ticket = registry.admit(channel) else { fatalError("registry refused") }
            let pipeline = channel.pipeline.syncOperations
            try pipeline.configureHTTPServerPipeline(withPipeliningAssistance: false, withErrorHandling: false)
            try WarrenHTTP1Channel.addWarrenHandlers(to: pipeline, before: nil, limits: limits, ticket: ticket,
                                                     registry: registry, table: table, logger: logger, accessLog: nil,
                                                     access: input.count % 2 == 1 ? access : nil)
            try pipeline.addHandler(StandInResponder())
            // In pieces, as a network delivers them.
            var rest = input[...]
            while !rest.isEmpty, channel.isActive {
                let cut = min(rest.count, 1 + Int(rest.first ?? 0) % 97)
                try channel.writeInbound(ByteBuffer(bytes: rest.prefix(cut)))
                rest = rest.dropFirst(cut)
            }
            channel.embeddedEventLoop.advanceTime(by: .seconds(30))
            channel.embeddedEventLoop.advanceTime(by: .seconds(120))
        } catch {
            // Errors are the channel's business (a closed channel refuses writes).
        }
        var written: [UInt8] = []
        while let part = try? channel.readOutbound(as: IOData.self) {
            if case .byteBuffer(let b) = part { written += b.readableBytesView }
        }
        if !written.isEmpty && !written.starts(with: Array("HTTP/1.".utf8)) {
            fatalError("not an HTTP/1 answer: \(String(decoding: written.prefix(80), as: UTF8.self))")
        }
        _ = try? channel.finish()
    }
}

/// Answers every request the way the responder would at the HTTP level: parses its path
/// as a GOPROXY request and sends a small text answer.
final class StandInResponder: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let head) = unwrapInboundIn(data) else { return }
        let status: HTTPResponseStatus
        do {
            _ = try ProxyRequest.parse(rawPath: String(head.uri.drop(while: { $0 == "/" })))
            status = .ok
        } catch {
            status = HTTPResponseStatus(statusCode: error.statusCode)
        }
        var headers = HTTPHeaders()
        headers.add(name: "content-length", value: "3")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "ok\n")))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}

#if FUZZING
/// The executable's entry point (SwiftPM names it after the module), handing over to
/// libFuzzer's driver.
@_cdecl("FuzzHTTPRequest_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        HTTPRequestHarness.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
        return 0
    }
}
#else
@main
struct ReplayHTTPRequests {
    static func main() throws {
        try CorpusReplay.main(HTTPRequestHarness.run)
    }
}
#endif
