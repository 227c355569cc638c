import NIOCore

/// What one client connection may cost Warren, and for how long. Every limit is a setting
/// (`warren serve --client-header-timeout` and friends); the defaults suit a proxy that
/// faces untrusted networks while never dropping a live client, however slow.
public struct ClientLimits: Sendable {
    /// From a connection's first byte (or its opening) to a complete request head.
    /// A slowloris client that trickles a header is answered 408 and closed after this.
    public var headerTimeout: TimeAmount
    /// How long a kept-alive connection may sit idle between requests, and how long a
    /// request body may pause.
    public var idleTimeout: TimeAmount
    /// How long a response may make less than `minSendRate` progress while bytes wait to
    /// be sent, before the client is taken to have stalled and is dropped.
    public var sendTimeout: TimeAmount
    /// Bytes per second a client must accept while bytes wait for it (averaged over
    /// `sendTimeout`); a live client on the slowest link reads far faster.
    public var minSendRate: Int
    /// Open client connections at most; beyond it, idle connections are reclaimed
    /// (oldest first) or the new connection is refused with a 503.
    public var maxConnections: Int
    /// Requests a client may have sent and not yet received answers for; further
    /// pipelined requests stay unread in the socket (TCP pushes back on the client).
    public var maxPipelined: Int
    /// After Warren decides to close (an error answer, `Connection: close`), how long it
    /// keeps reading and discarding what the client still sends, so that the answer is
    /// not lost to a TCP reset, before it closes regardless.
    public var lingerTimeout: TimeAmount

    public init(headerTimeout: TimeAmount = .seconds(10), idleTimeout: TimeAmount = .seconds(60),
                sendTimeout: TimeAmount = .seconds(60), minSendRate: Int = 1024,
                maxConnections: Int = DescriptorLimit.defaultMaxConnections(), maxPipelined: Int = 16,
                lingerTimeout: TimeAmount = .seconds(5)) {
        self.headerTimeout = headerTimeout
        self.idleTimeout = idleTimeout
        self.sendTimeout = sendTimeout
        self.minSendRate = minSendRate
        self.maxConnections = maxConnections
        self.maxPipelined = maxPipelined
        self.lingerTimeout = lingerTimeout
    }
}
