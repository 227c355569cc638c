import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypesHTTP1

/// Hummingbird's HTTP/1 child channel with `HotResponseHandler` placed just below the
/// HTTP-types codec, where it sees NIO's own request parts: answering a hot request there
/// also skips converting it to `HTTPRequest` (which parses the path as a URL).
/// Everything else — the responder, keep-alive, graceful shutdown — is Hummingbird's.
struct HotHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let inner: HTTP1Channel
    let table: HotResponseTable
    let logger: Logger

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let codec = try channel.pipeline.syncOperations.handler(type: HTTP1ToHTTPServerCodec.self)
            try channel.pipeline.syncOperations.addHandler(
                HotResponseHandler(table: table, logger: self.logger), position: .before(codec))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}
