import Foundation
import Synchronization

/// Something an operator may want to hear about as it happens: a new version cached or
/// published, content refused for not matching the checksum database, an upstream going
/// down or coming back. Webhooks deliver them (`WebhookDispatcher`).
public enum ProxyEvent: Sendable, Equatable {
    /// A version's zip fetched from an upstream (or git) and verified, now being stored.
    case cached(module: String, version: String, origin: String)
    /// A version published to a hosted namespace.
    case published(module: String, version: String, publisher: String)
    /// An upstream sent content whose hash the checksum database contradicts: refused.
    case checksumMismatch(module: String, version: String, artifact: String, detail: String)
    /// An upstream's circuit opened after repeated failures.
    case upstreamDown(upstream: String, failures: Int)
    /// An upstream whose circuit was open answered a probe.
    case upstreamUp(upstream: String)

    /// The event's type, as webhooks name it.
    public var type: String {
        switch self {
        case .cached: return "module.cached"
        case .published: return "module.published"
        case .checksumMismatch: return "checksum.mismatch"
        case .upstreamDown: return "upstream.down"
        case .upstreamUp: return "upstream.up"
        }
    }

    /// The module it concerns, if any (what a webhook's patterns filter on).
    public var module: String? {
        switch self {
        case .cached(let m, _, _), .published(let m, _, _), .checksumMismatch(let m, _, _, _): return m
        case .upstreamDown, .upstreamUp: return nil
        }
    }

    /// The fields of its JSON body, besides `id`, `type` and `time`.
    public var fields: [String: String] {
        switch self {
        case .cached(let m, let v, let origin): return ["module": m, "version": v, "origin": origin]
        case .published(let m, let v, let publisher): return ["module": m, "version": v, "publisher": publisher]
        case .checksumMismatch(let m, let v, let artifact, let detail): return ["module": m, "version": v, "artifact": artifact, "detail": detail]
        case .upstreamDown(let u, let failures): return ["upstream": u, "failures": String(failures)]
        case .upstreamUp(let u): return ["upstream": u]
        }
    }
}

/// Where events go: whoever listens (webhooks), called synchronously — listeners only
/// enqueue.
public final class ProxyEvents: Sendable {
    private let listeners = Mutex<[@Sendable (ProxyEvent) -> Void]>([])

    public init() {}

    public func listen(_ listener: @escaping @Sendable (ProxyEvent) -> Void) {
        listeners.withLock { $0.append(listener) }
    }

    public func emit(_ event: ProxyEvent) {
        for listener in listeners.withLock({ $0 }) { listener(event) }
    }
}
