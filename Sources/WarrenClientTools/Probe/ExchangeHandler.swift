import Foundation
import NIOCore
import NIOSSL
import NIOTLS

/// The end of a probe connection's pipeline: reports the TLS handshake, notes when the
/// first response byte arrives, and collects the response until the server closes.
final class ExchangeHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer

    let handshake: EventLoopPromise<Void>
    let response: EventLoopPromise<(bytes: [UInt8], truncated: Bool)>
    private let limit: Int
    private var received: [UInt8] = []
    private var finished = false
    private var handshakeDone = false
    /// Uptime in nanoseconds when the first response byte arrived.
    private(set) var firstByteAt: UInt64?

    /// `tls`: whether a handshake comes first (without one, the handshake promise is
    /// already fulfilled).
    init(loop: any EventLoop, limit: Int, tls: Bool) {
        handshake = loop.makePromise()
        response = loop.makePromise()
        self.limit = limit
        if !tls {
            handshakeDone = true
            handshake.succeed(())
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tls = event as? TLSUserEvent, case .handshakeCompleted = tls, !handshakeDone {
            handshakeDone = true
            handshake.succeed(())
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !finished else { return }
        if firstByteAt == nil { firstByteAt = DispatchTime.now().uptimeNanoseconds }
        received.append(contentsOf: unwrapInboundIn(data).readableBytesView)
        // Headers plus the limit: enough to judge the answer; the rest is not needed.
        if received.count > limit + 65536 {
            finish(.success((received, true)))
            context.close(promise: nil)
            return
        }
        // A server that keeps the connection open despite `Connection: close` has still
        // answered once Content-Length bytes of body are in.
        if let end = HTTPResponseParser.headerEnd(received), let length = Self.contentLength(received[..<end]),
           received.count - (end + 4) >= length {
            finish(.success((received, false)))
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !handshakeDone {
            handshakeDone = true
            handshake.fail(ProbeFailure(kind: .tls, message: "TLS handshake: the server closed the connection"))
        }
        finish(.success((received, false)))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A TLS peer closing without close_notify has still sent its whole response.
        if let ssl = error as? NIOSSLError, case .uncleanShutdown = ssl, handshakeDone { return }
        if !handshakeDone {
            handshakeDone = true
            handshake.fail(error)
        }
        finish(.failure(error))
        context.close(promise: nil)
    }

    static func contentLength(_ head: ArraySlice<UInt8>) -> Int? {
        for line in String(decoding: head, as: UTF8.self).split(separator: "\r\n") {
            guard let colon = line.firstIndex(of: ":"), line[..<colon].lowercased() == "content-length" else { continue }
            return Int(line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        return nil
    }

    /// Called by the request's timer on this handler's event loop.
    func timeOut(seconds: Double) {
        let phase = !handshakeDone && received.isEmpty ? "TLS handshake" : firstByteAt == nil ? "waiting for the first byte" : "reading the body"
        let failure = ProbeFailure(kind: .timeout, message: "\(phase): timed out after \(TimedHTTPClient.seconds(seconds))")
        if !handshakeDone {
            handshakeDone = true
            handshake.fail(failure)
        }
        finish(.failure(failure))
    }

    /// Completes the promises when the connection could not even be made.
    func abandon(_ error: any Error) {
        if !handshakeDone {
            handshakeDone = true
            handshake.fail(error)
        }
        finish(.failure(error))
    }

    private func finish(_ result: Result<(bytes: [UInt8], truncated: Bool), any Error>) {
        guard !finished else { return }
        finished = true
        if !handshakeDone {
            handshakeDone = true
            handshake.succeed(())
        }
        response.completeWith(result)
    }
}

/// Status line, headers and body (chunked or not) of one HTTP/1.1 response.
enum HTTPResponseParser {
    static func parse(_ bytes: [UInt8], truncated: Bool) throws(ProbeFailure) -> TimedResponse {
        guard let end = headerEnd(bytes) else {
            throw ProbeFailure(kind: .protocol, message: bytes.isEmpty ? "the server closed the connection without answering" : "malformed HTTP response")
        }
        let lines = String(decoding: bytes[..<end], as: UTF8.self).split(separator: "\r\n", omittingEmptySubsequences: false)
        let status = lines.first?.split(separator: " ") ?? []
        guard status.count >= 2, status[0].hasPrefix("HTTP/"), let code = Int(status[1]) else {
            throw ProbeFailure(kind: .protocol, message: "malformed HTTP status line")
        }
        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        var body = Array(bytes[(end + 4)...])
        var cut = truncated
        if headers.contains(where: { $0.name.lowercased() == "transfer-encoding" && $0.value.lowercased().contains("chunked") }) {
            (body, cut) = dechunk(body, truncated: truncated)
        }
        return TimedResponse(status: code, headers: headers, body: body, truncated: cut)
    }

    static func dechunk(_ data: [UInt8], truncated: Bool) -> ([UInt8], Bool) {
        var out: [UInt8] = []
        var i = 0
        while i < data.count {
            guard let lineEnd = (i..<max(i, data.count - 1)).first(where: { data[$0] == 13 && data[$0 + 1] == 10 }) else { return (out, true) }
            let sizeText = String(decoding: data[i..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else { return (out, true) }
            if size == 0 { return (out, truncated) }
            let start = lineEnd + 2
            guard start + size <= data.count else {
                out.append(contentsOf: data[start...])
                return (out, true)
            }
            out.append(contentsOf: data[start..<(start + size)])
            i = start + size + 2
        }
        return (out, true)
    }

    static func headerEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 0...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
            return i
        }
        return nil
    }
}
