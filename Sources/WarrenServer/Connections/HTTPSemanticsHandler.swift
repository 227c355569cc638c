import NIOCore
import NIOHTTP1

/// HTTP/1 connection rules the framework leaves loose, applied just above the decoder,
/// before any request reaches the fast path or the responder:
///
/// - `Connection: close` in any case and in any token list, and HTTP/1.0 without
///   `keep-alive`, end the connection after that request's answer (which says so), and
///   requests pipelined behind it are dropped.
/// - HTTP/1.1 without `Host`, or any request with more than one, is answered 400 (RFC
///   9112 §3.2); CONNECT is answered 405 with a reason.
/// - A request the decoder cannot parse is answered with a status and a one-line reason
///   (400, or 431 for an oversized header) once the answers before it are out.
/// - `Expect: 100-continue` is answered with `100 Continue` at once (uploads).
///
/// Every such answer closes the connection through `ConnectionGuardHandler`'s lingering
/// close, which it also tells where each request begins and ends.
final class HTTPSemanticsHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let connection: ConnectionGuardHandler
    /// For each request passed on and not answered yet: whether the connection stays open after it, and its version.
    private var owed = CircularBuffer<(keepAlive: Bool, version: HTTPVersion)>()
    /// No further request will be passed on: the connection closes once `owed` is empty.
    private var closing = false
    /// An answer to give, and close, once every answer owed before it has been written.
    private var finalAnswer: (PlainAnswer, ConnectionCloseReason)?
    /// Parts of a request answered here (or dropped) until its end.
    private var droppingRequest = false

    init(connection: ConnectionGuardHandler) {
        self.connection = connection
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            if closing {
                droppingRequest = true
                return
            }
            if let refusal = Self.refusal(for: head) {
                droppingRequest = true
                finish(with: refusal, reason: .badRequest)
                return
            }
            droppingRequest = false
            let keepAlive = head.isKeepAlive
            owed.append((keepAlive, head.version))
            if !keepAlive { closing = true }
            connection.requestHeadArrived()
            // A client that waits for `100 Continue` before sending its body (curl does for
            // uploads over 1 MiB, for a second) is told to go on at once.
            if head.version == .http1_1, head.headers["expect"].contains(where: { $0.lowercased() == "100-continue" }) {
                context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .continue))), promise: nil)
            }
            context.fireChannelRead(data)
        case .body:
            if !droppingRequest { context.fireChannelRead(data) }
        case .end:
            if droppingRequest {
                droppingRequest = false
                return
            }
            connection.requestEndArrived()
            context.fireChannelRead(data)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parseError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        if closing && finalAnswer != nil { return }
        droppingRequest = true
        if parseError == .headerOverflow {
            finish(with: PlainAnswer(status: 431, reason: "Request Header Fields Too Large",
                                     message: "request line or header too large"), reason: .badRequest)
        } else {
            finish(with: .badRequest("malformed HTTP request (\(Self.describe(parseError)))"), reason: .badRequest)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head) where head.status.code >= 200:
            if let request = owed.first {
                if !request.keepAlive || closing && owed.count == 1 {
                    head.headers.replaceOrAdd(name: "connection", value: "close")
                    // An HTTP/1.0 client cannot read chunked bodies: such an answer is
                    // framed by the close instead.
                    if request.version == .http1_0 { head.version = .http1_0 }
                }
            }
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .end:
            // An answer that ends the connection is followed by the close once its last
            // byte is out; any other is done as soon as it is written (the fast path and
            // the framework bound what they buffer themselves), which spares the fast
            // path a callback per request.
            let last = (owed.first.map { !$0.keepAlive } ?? false) || (closing && owed.count <= 1)
            if last {
                let done = promise ?? context.eventLoop.makePromise(of: Void.self)
                context.write(data, promise: done)
                done.futureResult.assumeIsolated().whenComplete { _ in self.answerWritten() }
            } else {
                context.write(data, promise: promise)
                answerWritten()
            }
        default:
            context.write(data, promise: promise)
        }
    }

    private func answerWritten() {
        if !owed.isEmpty { owed.removeFirst() }
        connection.answerWritten()
        guard owed.isEmpty, closing else { return }
        if let (answer, reason) = finalAnswer {
            finalAnswer = nil
            connection.answerAndClose(answer, reason: reason)
        } else {
            connection.closeLingering()
        }
    }

    /// Stops passing requests on; `answer` goes out once the answers owed are written.
    private func finish(with answer: PlainAnswer, reason: ConnectionCloseReason) {
        closing = true
        if owed.isEmpty {
            connection.answerAndClose(answer, reason: reason)
        } else {
            finalAnswer = (answer, reason)
        }
    }

    /// Requests refused before anything else looks at them.
    static func refusal(for head: HTTPRequestHead) -> PlainAnswer? {
        var answer: PlainAnswer
        let hosts = hostHeaders(head.headers)
        if head.method == .CONNECT {
            answer = PlainAnswer(status: 405, reason: "Method Not Allowed", message: "method CONNECT not allowed: use GET or HEAD",
                                 extraHeaders: [("Allow", "GET, HEAD")])
        } else if hosts > 1 {
            answer = .badRequest("more than one Host header")
        } else if hosts == 0, head.version.major == 1, head.version.minor >= 1 {
            answer = .badRequest("missing Host header (required in HTTP/1.1)")
        } else {
            return nil
        }
        answer.omitBody = head.method == .HEAD
        return answer
    }

    /// Host values, counting `Host: a, b` as two; one pass, no allocation (this runs for
    /// every request, the fast path's included).
    static func hostHeaders(_ headers: HTTPHeaders) -> Int {
        var count = 0
        for (name, value) in headers where name.utf8.count == 4 {
            var isHost = true
            for (c, h) in zip(name.utf8, "host".utf8) where c | 0x20 != h {
                isHost = false
                break
            }
            if isHost { count += value.utf8.contains(UInt8(ascii: ",")) ? 2 : 1 }
        }
        return count
    }

    static func describe(_ error: HTTPParserError) -> String {
        switch error {
        case .invalidMethod: return "invalid method"
        case .invalidURL: return "invalid request target"
        case .invalidVersion: return "invalid HTTP version"
        case .invalidHeaderToken: return "invalid header"
        case .invalidContentLength: return "invalid Content-Length"
        case .unexpectedContentLength: return "unexpected Content-Length"
        case .invalidChunkSize: return "invalid chunk size"
        case .invalidConstant: return "invalid request line"
        case .lfExpected, .strictModeAssertion: return "bad line ending"
        case .invalidCharactersUsed: return "invalid characters"
        default: return "bad request line or header"
        }
    }
}
