import Foundation
import GoModule
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// Why a probe request did not get an answer, sorted into the kinds a developer fixes
/// differently: a name that does not resolve, a port nobody listens on, a server too
/// slow to answer, a certificate Go will not accept.
public struct ProbeFailure: Error, Sendable, Codable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Codable { case dns, refused, connect, timeout, tls, `protocol` }
    public var kind: Kind
    public var message: String
    public var description: String { message }
}

/// Milliseconds spent in each phase of one request; nil for a phase not reached.
public struct PhaseTimings: Sendable, Codable, Equatable {
    public var dnsMs: Double?
    public var connectMs: Double?
    public var tlsMs: Double?
    public var firstByteMs: Double?
    public var totalMs: Double?
}

public struct TimedResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// The body was longer than the limit and was cut.
    public var truncated: Bool

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
    public var contentType: String? { header("content-type") }
    public var text: String { String(decoding: body, as: UTF8.self) }
}

public struct TimedExchange: Sendable {
    public var url: String
    public var address: String?
    public var timings = PhaseTimings()
    public var tls: TLSReport?
    public var response: TimedResponse?
    public var failure: ProbeFailure?
}

/// A one-request-per-connection HTTP/1.1 client that times DNS, TCP connect, TLS
/// handshake and first byte separately — the numbers AsyncHTTPClient hides — and
/// checks certificates exactly once, with the report of what it saw.
public struct TimedHTTPClient: Sendable {
    public let roots: TrustRoots
    /// Seconds allowed for the whole request.
    public let timeout: Double
    /// Basic-auth credentials by host (from .netrc), sent as the go command sends them.
    public let credentials: [HostCredential]
    public let userAgent: String

    public init(roots: TrustRoots, timeout: Double, credentials: [HostCredential] = [], userAgent: String = "warren-doctor") {
        self.roots = roots
        self.timeout = timeout
        self.credentials = credentials
        self.userAgent = userAgent
    }

    public func get(_ urlString: String, bodyLimit: Int = 1 << 20) async -> TimedExchange {
        var exchange = TimedExchange(url: ProxyList.redact(urlString))
        guard let url = URL(string: urlString), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              var host = url.host, !host.isEmpty else {
            exchange.failure = ProbeFailure(kind: .protocol, message: "not an http(s) URL: \(exchange.url)")
            return exchange
        }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let port = url.port ?? (scheme == "https" ? 443 : 80)
        let start = DispatchTime.now().uptimeNanoseconds
        func elapsed(since t: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - t) / 1e6 }
        let deadline = Double(start) / 1e9 + timeout
        func remaining() -> Double { max(0.05, deadline - Double(DispatchTime.now().uptimeNanoseconds) / 1e9) }

        // DNS, on a thread of its own: getaddrinfo blocks and cannot be cancelled.
        let resolved = await Self.resolve(host: host, port: port, timeout: remaining())
        exchange.timings.dnsMs = elapsed(since: start)
        let addresses: [SocketAddress]
        switch resolved {
        case .success(let a): addresses = a
        case .failure(let f):
            exchange.failure = f
            exchange.timings.totalMs = elapsed(since: start)
            return exchange
        }

        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let presented = Mutex<[[UInt8]]>([])
        let tlsContext: NIOSSLContext?
        if scheme == "https" {
            var config = TLSConfiguration.makeClientConfiguration()
            config.certificateVerification = .none
            tlsContext = try? NIOSSLContext(configuration: config)
        } else {
            tlsContext = nil
        }
        let serverName = host.contains(":") || host.split(separator: ".").allSatisfy({ Int($0) != nil }) ? nil : host
        let connectStart = DispatchTime.now().uptimeNanoseconds
        // Each address in turn, as the go command's dialer falls back from one to the next.
        var connected: (channel: any Channel, handler: ExchangeHandler, sniffer: ServerHelloSniffer)?
        var lastError: (any Error)?
        for address in addresses {
            // Fresh handlers per attempt: a failed channel may have seen them already.
            let handler = ExchangeHandler(loop: loop, limit: bodyLimit, tls: scheme == "https")
            let sniffer = ServerHelloSniffer()
            do {
                let channel = try await ClientBootstrap(group: loop)
                    .connectTimeout(.milliseconds(Int64(remaining() * 1000)))
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            let sync = channel.pipeline.syncOperations
                            if let tlsContext {
                                try sync.addHandler(sniffer)
                                // Accept any chain here and judge it afterwards with the report in hand.
                                let ssl = try NIOSSLClientHandler(context: tlsContext, serverHostname: serverName) { certs, promise in
                                    presented.withLock { $0 = certs.compactMap { try? $0.toDERBytes() } }
                                    promise.succeed(.certificateVerified)
                                }
                                try sync.addHandler(ssl)
                            }
                            try sync.addHandler(handler)
                        }
                    }
                    .connect(to: address).get()
                connected = (channel, handler, sniffer)
                exchange.address = address.ipAddress.map { address.protocol == .inet6 ? "[\($0)]:\(port)" : "\($0):\(port)" }
                break
            } catch {
                lastError = error
                loop.execute { handler.abandon(error) }
            }
        }
        guard let (channel, handler, sniffer) = connected else {
            let error = lastError ?? ChannelError.connectTimeout(.zero)
            exchange.timings.connectMs = elapsed(since: connectStart)
            exchange.timings.totalMs = elapsed(since: start)
            exchange.failure = Self.classifyConnect(error, host: host, port: port, timeout: timeout)
            return exchange
        }
        exchange.timings.connectMs = elapsed(since: connectStart)
        let timer = loop.scheduleTask(in: .milliseconds(Int64(remaining() * 1000))) {
            handler.timeOut(seconds: timeout)
            channel.close(promise: nil)
        }
        defer { timer.cancel() }

        if tlsContext != nil {
            let handshakeStart = DispatchTime.now().uptimeNanoseconds
            do {
                try await handler.handshake.futureResult.get()
            } catch {
                exchange.timings.tlsMs = elapsed(since: handshakeStart)
                exchange.timings.totalMs = elapsed(since: start)
                exchange.failure = Self.classify(error, phase: "TLS handshake")
                channel.close(promise: nil)
                return exchange
            }
            exchange.timings.tlsMs = elapsed(since: handshakeStart)
            var report = await CertificateCheck.check(chainDER: presented.withLock { $0 }, host: host, roots: roots)
            report.version = (try? await channel.nioSSL_tlsVersion().get()).flatMap { $0.map(Self.versionName) }
            report.cipher = try? await loop.submit { sniffer.cipherSuite.map(ServerHelloSniffer.name) }.get()
            exchange.tls = report
            if !report.verified {
                // As the go command does: nothing is sent to a server whose certificate fails.
                channel.close(promise: nil)
                exchange.failure = ProbeFailure(kind: .tls, message: "tls: \(report.problemDetail ?? "certificate not trusted")")
                exchange.timings.totalMs = elapsed(since: start)
                return exchange
            }
        }

        var target = url.path.isEmpty ? "/" : url.path
        if let query = url.query { target += "?" + query }
        let hostHeader = url.port.map { "\(url.host ?? host):\($0)" } ?? (url.host ?? host)
        var request = "GET \(target) HTTP/1.1\r\nHost: \(hostHeader)\r\nUser-Agent: \(userAgent)\r\nAccept-Encoding: identity\r\nConnection: close\r\n"
        if let credential = credentials.first(where: { $0.applies(to: host) }) {
            let token = Data("\(credential.username):\(credential.password)".utf8).base64EncodedString()
            request += "Authorization: Basic \(token)\r\n"
        }
        request += "\r\n"
        let requestStart = DispatchTime.now().uptimeNanoseconds
        channel.writeAndFlush(ByteBuffer(string: request), promise: nil)
        do {
            let raw = try await handler.response.futureResult.get()
            if let first = handler.firstByteAt { exchange.timings.firstByteMs = Double(first - requestStart) / 1e6 }
            exchange.timings.totalMs = elapsed(since: start)
            exchange.response = try HTTPResponseParser.parse(raw.bytes, truncated: raw.truncated)
        } catch {
            if let first = handler.firstByteAt { exchange.timings.firstByteMs = Double(first - requestStart) / 1e6 }
            exchange.timings.totalMs = elapsed(since: start)
            exchange.failure = Self.classify(error, phase: handler.firstByteAt == nil ? "waiting for the first byte" : "reading the body")
        }
        return exchange
    }

    static func versionName(_ v: TLSVersion) -> String {
        switch v {
        case .tlsv1: return "TLS 1.0"
        case .tlsv11: return "TLS 1.1"
        case .tlsv12: return "TLS 1.2"
        case .tlsv13: return "TLS 1.3"
        }
    }

    static func resolve(host: String, port: Int, timeout: Double) async -> Result<[SocketAddress], ProbeFailure> {
        let once = OnceContinuation<Result<[SocketAddress], ProbeFailure>>()
        return await withCheckedContinuation { continuation in
            once.set(continuation)
            Thread {
                let addresses = allAddresses(host: host, port: port)
                once.resume(addresses.isEmpty ? .failure(ProbeFailure(kind: .dns, message: "lookup \(host): no such host")) : .success(addresses))
            }.start()
            Task {
                try? await Task.sleep(for: .seconds(timeout))
                once.resume(.failure(ProbeFailure(kind: .timeout, message: "lookup \(host): timed out after \(Self.seconds(timeout))")))
            }
        }
    }

    /// Every TCP address of `host`, in the resolver's order (getaddrinfo blocks).
    static func allAddresses(host: String, port: Int) -> [SocketAddress] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else { return [] }
        defer { freeaddrinfo(first) }
        var out: [SocketAddress] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            if let sa = info.pointee.ai_addr {
                switch Int32(sa.pointee.sa_family) {
                case AF_INET:
                    let v4 = UnsafeRawPointer(sa).load(as: sockaddr_in.self)
                    out.append(SocketAddress(v4, host: host))
                case AF_INET6:
                    let v6 = UnsafeRawPointer(sa).load(as: sockaddr_in6.self)
                    out.append(SocketAddress(v6, host: host))
                default: break
                }
            }
            cursor = info.pointee.ai_next
        }
        var seen = Set<String>()
        return out.filter { seen.insert($0.description).inserted }
    }

    static func classifyConnect(_ error: any Error, host: String, port: Int, timeout: Double) -> ProbeFailure {
        if let io = error as? IOError, io.errnoCode == ECONNREFUSED {
            return ProbeFailure(kind: .refused, message: "dial tcp \(host):\(port): connection refused")
        }
        let text = "\(error)"
        if text.contains("refused") || text.contains("errno: 111") {
            return ProbeFailure(kind: .refused, message: "dial tcp \(host):\(port): connection refused")
        }
        if let channelError = error as? ChannelError, case .connectTimeout = channelError {
            return ProbeFailure(kind: .timeout, message: "dial tcp \(host):\(port): timed out after \(seconds(timeout))")
        }
        return ProbeFailure(kind: .connect, message: "dial tcp \(host):\(port): \(text)")
    }

    static func classify(_ error: any Error, phase: String) -> ProbeFailure {
        if let f = error as? ProbeFailure { return f }
        return ProbeFailure(kind: phase == "TLS handshake" ? .tls : .protocol, message: "\(phase): \(error)")
    }

    static func seconds(_ s: Double) -> String {
        s == s.rounded() ? "\(Int(s)) s" : String(format: "%.1f s", s)
    }
}

/// Resumes a continuation once, whichever of several racers gets there first.
final class OnceContinuation<T: Sendable>: Sendable {
    private let state = Mutex<(continuation: CheckedContinuation<T, Never>?, early: T?)>((nil, nil))

    func set(_ c: CheckedContinuation<T, Never>) {
        let early: T? = state.withLock { s in
            if let e = s.early { s.early = nil; return e }
            s.continuation = c
            return nil
        }
        if let early { c.resume(returning: early) }
    }

    func resume(_ value: T) {
        let c: CheckedContinuation<T, Never>? = state.withLock { s in
            defer { s.continuation = nil }
            if s.continuation == nil && s.early == nil { s.early = value }
            return s.continuation
        }
        c?.resume(returning: value)
    }
}
