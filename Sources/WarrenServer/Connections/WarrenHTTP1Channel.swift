import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1
import NIOSSL
import WarrenCore

/// Warren's HTTP/1 child channel: Hummingbird's, with Warren's own handlers around it.
///
/// ```
/// socket ⇄ ConnectionGuardHandler ⇄ HTTP encoder/decoder ⇄ HTTPSemanticsHandler
///        ⇄ HotResponseHandler ⇄ HTTP-types codec ⇄ Hummingbird (responder)
/// ```
///
/// The guard owns timeouts, backpressure and closing; the semantics handler the HTTP/1
/// connection rules; the hot handler answers cached artifacts from the pipeline (it sees
/// NIO's own request parts, so a hit also skips converting the request to `HTTPRequest`).
/// A connection over the cap gets none of this: a 503 and a close. With TLS, the TLS
/// handler comes first of all (the guard's timeouts then cover the handshake too), with
/// the certificate store's context of the moment.
struct WarrenHTTP1Channel: ServerChildChannel {
    enum Value: ServerChildChannelValue {
        case serving(HTTP1Channel.Value)
        case refused(any Channel)

        var channel: any Channel {
            switch self {
            case .serving(let value): return value.channel
            case .refused(let channel): return channel
            }
        }
    }

    let inner: HTTP1Channel
    let table: HotResponseTable
    let limits: ClientLimits
    let registry: ConnectionRegistry
    let logger: Logger
    let accessLog: AccessLog?
    /// Serve HTTPS with this store's certificate (nil: plain HTTP).
    var tls: TLSCertificateStore?
    /// Access rules for the fast path (nil: everyone everything).
    var access: AccessControl?

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        guard let ticket = registry.admit(channel) else {
            return channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(RefusedConnectionHandler())
                try addTLS(to: channel)
                return .refused(channel)
            }
        }
        return inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let pipeline = channel.pipeline.syncOperations
            try Self.addWarrenHandlers(to: pipeline, before: try pipeline.handler(type: HTTP1ToHTTPServerCodec.self),
                                       limits: limits, ticket: ticket, registry: registry, table: table, logger: self.logger,
                                       accessLog: accessLog, fileRegions: tls == nil, access: access)
            try addTLS(to: channel)
            return .serving(value)
        }.flatMapErrorThrowing { error in
            registry.release(ticket)
            throw error
        }
    }

    /// Adds the guard in front of everything, and the semantics and fast-path handlers
    /// after NIO's HTTP/1 decoder, before `codec` (the first handler that deals in
    /// HTTP-types parts; nil: at the end). The fuzzing harness builds the same pipeline.
    static func addWarrenHandlers(to pipeline: ChannelPipeline.SynchronousOperations, before codec: (any ChannelHandler)?,
                                  limits: ClientLimits, ticket: ConnectionRegistry.Ticket, registry: ConnectionRegistry,
                                  table: HotResponseTable, logger: Logger, accessLog: AccessLog?, fileRegions: Bool = true,
                                  access: AccessControl? = nil) throws {
        let guardHandler = ConnectionGuardHandler(limits: limits, ticket: ticket, registry: registry)
        try pipeline.addHandler(guardHandler, position: .first)
        let hot = HotResponseHandler(table: table, logger: logger, accessLog: accessLog, fileRegions: fileRegions, access: access)
        try pipeline.addHandler(hot, position: codec.map { .before($0) } ?? .last)
        try pipeline.addHandler(HTTPSemanticsHandler(connection: guardHandler), position: .before(hot))
    }

    /// The TLS handler, first in the pipeline.
    private func addTLS(to channel: any Channel) throws {
        guard let tls else { return }
        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls.context), position: .first)
    }

    func handle(value: Value, logger: Logger) async {
        switch value {
        case .serving(let channel):
            await inner.handle(value: channel, logger: logger)
        case .refused(let channel):
            try? await channel.closeFuture.get()
        }
    }
}

/// Answers a connection over the cap with a 503 and closes it, reading nothing.
final class RefusedConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    static let answer = PlainAnswer(status: 503, reason: "Service Unavailable",
                                    message: "too many connections: try again shortly",
                                    extraHeaders: [("Retry-After", "1")])

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { refuse(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        refuse(context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    private var refused = false

    private func refuse(_ context: ChannelHandlerContext) {
        guard !refused else { return }
        refused = true
        let channel = context.channel
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(NIOAny(Self.answer.bytes()), promise: written)
        written.futureResult.whenComplete { _ in channel.close(promise: nil) }
    }
}
