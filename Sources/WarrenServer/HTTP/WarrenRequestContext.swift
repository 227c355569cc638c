import Hummingbird
import NIOCore

/// Hummingbird's basic context plus the request's connection, which streamed bodies need:
/// for backpressure (`EventLoopPacer`) and for zero-copy file writes (`ZeroCopyFileBody`).
public struct WarrenRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The connection this request arrived on.
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }
}
