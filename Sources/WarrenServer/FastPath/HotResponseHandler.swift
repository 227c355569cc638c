import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOCore
import NIOHTTP1
import WarrenCore

/// Answers requests for the hottest immutable artifacts straight from the channel
/// pipeline, on the event loop, from `HotResponseTable`.
///
/// Serving a cached `.info` through Hummingbird's responder costs several task hops and
/// allocations per request; that, not Warren's own work, is what kept small-file
/// throughput well below nginx's. A cache hit needs none of it: the answer is a fixed
/// head plus a Date header, and fixed bytes, handed straight to NIO's HTTP/1 encoder
/// (which must see every response: it pairs each with its request, to leave the body out
/// of answers to HEAD). Everything else — misses, ranges, conditional requests, anything
/// unusual — is passed on to Hummingbird untouched.
///
/// Order is kept for pipelined requests: while a request passed on is still being
/// answered, later requests are passed on too. At most one stored file is open per
/// connection: while one is being sent, later requests wait here (a client pipelining
/// thousands of requests for a zip and reading none must not make Warren open the zip
/// thousands of times; `ConnectionGuardHandler` stops reading the socket meanwhile).
///
/// Whatever the ordinary path decides per request is decided here too, or the request
/// passed on: with access rules, an answer goes out here only when the caller (no
/// credentials, or a good token) may read the entry's module; anything else (a bad
/// token, a refusal) goes the ordinary way, which says why.
final class HotResponseHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let table: HotResponseTable
    private let logger: Logger
    private let accessLog: AccessLog?
    /// Whether stored files may go out with sendfile; not through TLS, which must see the
    /// bytes (those requests take the ordinary path, which streams them).
    private let fileRegions: Bool
    /// Who may read what (nil: everyone everything).
    private let access: AccessControl?
    /// What this connection's credentials were found to be, kept while the token cache
    /// has not changed: a client sends the same Authorization header on every request
    /// of a connection, and checking it again each time cost a third of the fast
    /// path's throughput.
    private var remembered: RememberedCaller?
    private struct RememberedCaller {
        let authorization: String?
        let principal: Principal
        let version: Int
        let expiresAt: Double?
        var lastUse: Double
        /// Module → may read, for this caller.
        var modules: [String: Bool] = [:]
    }
    /// Requests passed on whose responses have not ended yet.
    private var pendingOnSlowPath = 0
    /// The request being read was answered here: its remaining parts are dropped.
    private var answeredHere = false
    /// A stored file is being sent; parts that arrive meanwhile wait in `queued`.
    private var fileInFlight = false
    private var queued = CircularBuffer<HTTPServerRequestPart>()

    init(table: HotResponseTable, logger: Logger, accessLog: AccessLog?, fileRegions: Bool = true, access: AccessControl? = nil) {
        self.table = table
        self.access = access
        self.fileRegions = fileRegions
        self.logger = logger
        self.accessLog = accessLog
    }

    /// Request headers that can change the answer; a request with any of them goes the slow way.
    static let disqualifying = ["range", "if-range", "if-none-match", "if-modified-since", "if-match", "if-unmodified-since",
                                "connection", "expect"]

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if fileInFlight || !queued.isEmpty {
            queued.append(part)
            return
        }
        process(part, context: context)
    }

    private func process(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(let request):
            if pendingOnSlowPath == 0, let entry = hit(request), answer(request, with: entry, context: context) {
                answeredHere = true
                return
            }
            answeredHere = false
            pendingOnSlowPath += 1
            context.fireChannelRead(wrapInboundOut(part))
        case .body:
            if !answeredHere { context.fireChannelRead(wrapInboundOut(part)) }
        case .end:
            if answeredHere {
                answeredHere = false
            } else {
                context.fireChannelRead(wrapInboundOut(part))
            }
        }
    }

    /// The file answer is out: the requests that waited for it go on, in order.
    private func fileSent(context: ChannelHandlerContext) {
        fileInFlight = false
        var replayed = false
        while !fileInFlight, let part = queued.popFirst() {
            replayed = true
            process(part, context: context)
        }
        // Hummingbird's channel hands parts on at read-complete.
        if replayed { context.fireChannelReadComplete() }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), pendingOnSlowPath > 0 {
            pendingOnSlowPath -= 1
        }
        context.write(data, promise: promise)
    }

    private func hit(_ request: HTTPRequestHead) -> HotResponseTable.Entry? {
        // HTTP/1.0 clients have other keep-alive rules: Hummingbird handles them.
        guard request.method == .GET || request.method == .HEAD, request.version == .http1_1,
              !Self.disqualifying.contains(where: { request.headers.contains(name: $0) })
        else { return nil }
        guard let entry = table.get(request.uri) else { return nil }
        if !fileRegions, case .file = entry.body { return nil }
        if let access, !mayRead(entry, request, access: access) { return nil }
        return entry
    }

    /// The same decision the ordinary path makes, from memory; false passes the request
    /// on (it may still be served there, or refused with the reason).
    private func mayRead(_ entry: HotResponseTable.Entry, _ request: HTTPRequestHead, access: AccessControl) -> Bool {
        guard let module = entry.module, var caller = caller(request, access: access) else { return false }
        let principal = caller.principal
        let allowed: Bool
        if let known = caller.modules[module] {
            allowed = known
        } else {
            if case .allowed = access.policy.decide(principal, module: module) { allowed = true } else { allowed = false }
            if caller.modules.count >= 256 { caller.modules.removeAll() }
            caller.modules[module] = allowed
            remembered = caller
        }
        guard allowed else { return false }
        if let audit = access.audit, let download = entry.download, access.policy.isClaimed(module) {
            audit.record(.init(action: "download", principal: principal, target: download.module + "@" + download.version,
                                       result: "allowed"))
        }
        return true
    }

    /// Who this request is, from memory when the connection's credentials were seen
    /// before and nothing changed since; nil when the credentials are not good (the
    /// ordinary path then says why).
    private func caller(_ request: HTTPRequestHead, access: AccessControl) -> RememberedCaller? {
        let authorization = request.headers.first(name: "authorization")
        let version = access.authenticator.tokens?.version ?? 0
        if let known = remembered, known.authorization == authorization, known.version == version {
            guard case .user(let identity) = known.principal else { return known }
            let now = Date().timeIntervalSince1970
            if let expiresAt = known.expiresAt, now >= expiresAt { return nil }
            if now - known.lastUse >= 1, let id = identity.tokenID {
                access.authenticator.tokens?.noteUse(of: id, at: now)
                remembered?.lastUse = now
            }
            return remembered
        }
        var principal = Principal.anonymous
        var expiresAt: Double?
        if let authorization {
            guard case .principal(let who) = access.authenticator.peek(authorization: authorization, recordUse: true),
                  case .user(let identity) = who else { return nil }
            principal = who
            expiresAt = identity.tokenID.flatMap { access.authenticator.tokens?.expiry(of: $0) }
        }
        let caller = RememberedCaller(authorization: authorization, principal: principal, version: version, expiresAt: expiresAt,
                                      lastUse: Date().timeIntervalSince1970)
        remembered = caller
        return caller
    }

    /// Writes the answer; false, having written nothing, when a stored file cannot be
    /// opened any more (the request then goes the ordinary way).
    private func answer(_ request: HTTPRequestHead, with entry: HotResponseTable.Entry, context: ChannelHandlerContext) -> Bool {
        let start = ContinuousClock.now
        let isHead = request.method == .HEAD
        var body: IOData?
        var opened: NIOFileHandle?
        if !isHead {
            switch entry.body {
            case .bytes(let bytes):
                body = .byteBuffer(bytes)
            case .file(let path, let size):
                // Opened here on the event loop, as nginx does: a stored file's directory
                // entry is hot, and the open costs microseconds.
                guard let handle = Self.open(path, size: size) else {
                    table.forget(request.uri)
                    return false
                }
                opened = handle
                body = .fileRegion(FileRegion(fileHandle: handle, readerIndex: 0, endIndex: Int(size)))
            }
        }
        var head = entry.head
        head.headers.add(name: "date", value: HTTPDate.format(Date().timeIntervalSince1970))
        if opened != nil { try? context.channel.syncOptions?.setOption(Self.cork, value: 1) }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if let body {
            context.write(wrapOutboundOut(.body(body)), promise: nil)
        }
        let done = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: done)
        if let opened {
            fileInFlight = true
            let channel = context.channel
            done.futureResult.assumeIsolated().whenComplete { _ in
                try? opened.close()
                try? channel.syncOptions?.setOption(Self.cork, value: 0)
                self.fileSent(context: context)
            }
        }

        entry.cacheHits.increment()
        table.answers.increment()
        var line = RequestLogLine(method: request.method.rawValue, path: request.uri, start: start, logger: logger, accessLog: accessLog)
        line.cache = ServedArtifact.CacheStatus.hit.rawValue
        line.bytes = isHead ? 0 : entry.body.length
        line.download = entry.download
        line.complete(endpoint: entry.endpoint, status: 200, metrics: entry.metrics)
        return true
    }

    /// TCP_CORK while a head and a file go out, as nginx's `tcp_nopush` does: the head
    /// then leaves in the same segment as the first file bytes instead of alone, which
    /// took 0.8 ms off each 5 MB answer on one connection (3.6 → 2.8 ms; nginx 2.7 ms).
    static let cork = ChannelOptions.Types.SocketOption(level: .tcp, name: NIOBSDSocket.Option(rawValue: TCP_CORK))

    /// The stored file, if it is still there with the size it was stored with.
    static func open(_ path: String, size: Int64) -> NIOFileHandle? {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        var st = stat()
        guard fstat(fd, &st) == 0, Int64(st.st_size) == size else {
            Glibc.close(fd)
            return nil
        }
        return NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: fd)
    }
}
