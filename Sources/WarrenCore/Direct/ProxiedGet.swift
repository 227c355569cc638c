import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// One GET through an HTTP proxy, the way the go command (and curl) do it: plain
/// `http://` URLs as an absolute-form request to the proxy, `https://` URLs through a
/// `CONNECT` tunnel with TLS inside. A refused tunnel fails at once, not after retries.
/// HTTP/1.0 with `Connection: close`, so the body is simply everything until the end.
enum ProxiedGet {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func get(_ url: URL, proxyHost: String, proxyPort: Int, headers: [(String, String)], limit: Int,
                    timeout: TimeAmount) async throws -> DiscoveryHTTP.Page {
        guard let host = url.host, let scheme = url.scheme, scheme == "http" || scheme == "https" else {
            throw Failure(description: "unsupported URL \(url)")
        }
        let port = url.port ?? (scheme == "https" ? 443 : 80)
        let hostPort = url.port.map { "\(host):\($0)" } ?? host
        var target = url.path.isEmpty ? "/" : url.path
        if let query = url.query { target += "?" + query }
        var request = "GET \(scheme == "https" ? target : "http://\(hostPort)\(target)") HTTP/1.0\r\nHost: \(hostPort)\r\nConnection: close\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        request += "\r\n"

        let promise = MultiThreadedEventLoopGroup.singleton.next().makePromise(of: [UInt8].self)
        let tls: NIOSSLContext? = scheme == "https" ? try NIOSSLContext(configuration: .makeClientConfiguration()) : nil
        let handler = ExchangeHandler(promise: promise, request: Array(request.utf8), tunnel: tls.map { ("\(host):\(port)", $0, host) }, limit: limit)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(timeout)
                .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(handler) } }
                .connect(host: proxyHost, port: proxyPort).get()
        } catch {
            // Every promise must be completed, also when the proxy cannot be reached.
            promise.fail(error)
            throw Failure(description: "cannot reach the proxy \(proxyHost):\(proxyPort) (connection refused or timed out)")
        }
        let deadline = channel.eventLoop.scheduleTask(in: timeout) {
            promise.fail(Failure(description: "timed out after \(timeout.nanoseconds / 1_000_000_000) s"))
            channel.close(promise: nil)
        }
        defer { deadline.cancel() }
        let response = try await promise.futureResult.get()
        return try parse(response)
    }

    /// Status line, headers (only Location matters here) and body of a whole response.
    static func parse(_ bytes: [UInt8]) throws -> DiscoveryHTTP.Page {
        guard let end = headerEnd(bytes) else { throw Failure(description: "malformed HTTP response") }
        let head = String(decoding: bytes[..<end], as: UTF8.self).split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusFields = head.first?.split(separator: " ") ?? []
        guard statusFields.count >= 2, statusFields[0].hasPrefix("HTTP/"), let status = Int(statusFields[1]) else {
            throw Failure(description: "malformed HTTP status line")
        }
        var location: String?
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            if line[..<colon].lowercased() == "location" {
                location = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return DiscoveryHTTP.Page(status: status, location: location, body: Array(bytes[(end + 4)...]))
    }

    static func headerEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 0...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
            return i
        }
        return nil
    }
}

/// Drives one exchange: optionally `CONNECT` and TLS, then the request, then collects the
/// response until the connection closes.
private final class ExchangeHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let promise: EventLoopPromise<[UInt8]>
    let request: [UInt8]
    /// (authority, TLS context, server name) when tunnelling.
    let tunnel: (String, NIOSSLContext, String)?
    let limit: Int
    var tunnelling: Bool
    var received: [UInt8] = []

    init(promise: EventLoopPromise<[UInt8]>, request: [UInt8], tunnel: (String, NIOSSLContext, String)?, limit: Int) {
        self.promise = promise
        self.request = request
        self.tunnel = tunnel
        self.limit = limit
        self.tunnelling = tunnel != nil
    }

    func channelActive(context: ChannelHandlerContext) {
        if let (authority, _, _) = tunnel {
            let connect = "CONNECT \(authority) HTTP/1.1\r\nHost: \(authority)\r\n\r\n"
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: connect)), promise: nil)
        } else {
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: request)), promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        received.append(contentsOf: buffer.readableBytesView)
        if tunnelling {
            guard let end = ProxiedGet.headerEnd(received) else { return }
            let status = String(decoding: received[..<end], as: UTF8.self).split(separator: " ").dropFirst().first
            guard status == "200", let (_, tls, name) = tunnel else {
                promise.fail(ProxiedGet.Failure(description: "proxy refused the tunnel (\(String(decoding: received[..<end], as: UTF8.self).split(separator: "\r\n").first ?? ""))"))
                context.close(promise: nil)
                return
            }
            tunnelling = false
            received = []
            do {
                let ssl = try NIOSSLClientHandler(context: tls, serverHostname: name)
                try context.pipeline.syncOperations.addHandler(ssl, position: .before(self))
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: request)), promise: nil)
            } catch {
                promise.fail(error)
                context.close(promise: nil)
            }
            return
        }
        if received.count > limit {
            received.removeLast(received.count - limit)
            promise.succeed(received)
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if tunnelling {
            promise.fail(ProxiedGet.Failure(description: "proxy closed the connection"))
        } else {
            promise.succeed(received)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A TLS peer closing without close_notify still sent the whole response.
        if let ssl = error as? NIOSSLError, case .uncleanShutdown = ssl, !tunnelling {
            return
        }
        promise.fail(error)
        context.close(promise: nil)
    }
}
