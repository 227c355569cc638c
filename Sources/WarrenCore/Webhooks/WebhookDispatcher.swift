import AsyncHTTPClient
import Crypto
import Foundation
import GoModule
import Logging
import NIOCore

/// Delivers events to webhook targets: a signed JSON POST each, retried with backoff
/// until the target answers 2xx, from a bounded queue per target (the oldest event is
/// dropped when one is full), counted in metrics.
///
/// The body is `{"id","type","time",…fields}`. Headers: `X-Warren-Event` (the type),
/// `X-Warren-Delivery` (the event's id, the same on every retry, so a receiver can drop
/// duplicates), `X-Warren-Timestamp` (Unix seconds when this attempt was signed) and
/// `X-Warren-Signature: sha256=HEX`, an HMAC-SHA256 with the shared secret over
/// `TIMESTAMP.BODY` — a receiver checks it and refuses old timestamps (replays).
public final class WebhookDispatcher: Sendable {
    public struct Delivery: Sendable {
        public var id: String
        public var type: String
        public var body: [UInt8]
    }

    let targets: [WebhookTarget]
    let secret: SymmetricKey
    let client: @Sendable (String) -> HTTPClient
    let logger: Logger
    /// Waits between attempts; the last is repeated no more.
    let backoff: [Duration]
    let queues: [(stream: AsyncStream<Delivery>, continuation: AsyncStream<Delivery>.Continuation)]
    public static let queueLimit = 1000

    public init(targets: [WebhookTarget], secret: String, client: @escaping @Sendable (String) -> HTTPClient, logger: Logger,
                backoff: [Duration] = [.milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(16)]) {
        self.targets = targets
        self.secret = SymmetricKey(data: Array(secret.utf8))
        self.client = client
        self.logger = logger
        self.backoff = backoff
        queues = targets.map { _ in AsyncStream.makeStream(of: Delivery.self, bufferingPolicy: .bufferingNewest(Self.queueLimit)) }
    }

    /// Queues `event` for every target that wants it.
    public func post(_ event: ProxyEvent, at time: Date = Date()) {
        var object: [String: String] = event.fields
        object["id"] = UUID().uuidString.lowercased()
        object["type"] = event.type
        object["time"] = ISO8601DateFormatter().string(from: time)
        let body = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])).map { Array($0) } ?? []
        let delivery = Delivery(id: object["id"] ?? "", type: event.type, body: body)
        for (target, queue) in zip(targets, queues) where target.wants(event) {
            if case .dropped = queue.continuation.yield(delivery) {
                MetricHandles.counter("warren_webhook_deliveries_total", [("target", target.description), ("result", "dropped")]).increment()
            }
        }
    }

    /// Delivers until cancelled (then what is queued is abandoned).
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            for (target, queue) in zip(targets, queues) {
                group.addTask {
                    for await delivery in queue.stream {
                        await self.deliver(delivery, to: target)
                        if Task.isCancelled { break }
                    }
                }
            }
            await withTaskCancellationHandler {
                await group.waitForAll()
            } onCancel: {
                for queue in queues { queue.continuation.finish() }
            }
        }
    }

    /// `sha256=HEX` of `TIMESTAMP.BODY`.
    public static func signature(secret: SymmetricKey, timestamp: Int, body: [UInt8]) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array("\(timestamp).".utf8) + body, using: secret)
        return "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
    }

    func deliver(_ delivery: Delivery, to target: WebhookTarget) async {
        var attempt = 0
        while true {
            let timestamp = Int(Date().timeIntervalSince1970)
            var request = HTTPClientRequest(url: target.url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "User-Agent", value: "warren-webhook")
            request.headers.add(name: "X-Warren-Event", value: delivery.type)
            request.headers.add(name: "X-Warren-Delivery", value: delivery.id)
            request.headers.add(name: "X-Warren-Timestamp", value: String(timestamp))
            request.headers.add(name: "X-Warren-Signature", value: Self.signature(secret: secret, timestamp: timestamp, body: delivery.body))
            request.body = .bytes(ByteBuffer(bytes: delivery.body))
            var problem: String
            do {
                let response = try await client(target.url).execute(request, timeout: .seconds(10))
                _ = try? await response.body.collect(upTo: 64 * 1024)
                if (200..<300).contains(response.status.code) {
                    MetricHandles.counter("warren_webhook_deliveries_total", [("target", target.description), ("result", "delivered")]).increment()
                    return
                }
                problem = "HTTP \(response.status.code)"
            } catch {
                problem = URLDisplayName.scrub(String(describing: error), secrets: [])
            }
            guard attempt < backoff.count, !Task.isCancelled else {
                MetricHandles.counter("warren_webhook_deliveries_total", [("target", target.description), ("result", "failed")]).increment()
                logger.warning("webhook not delivered; giving up", metadata: [
                    "target": "\(target)", "event": "\(delivery.type)", "delivery": "\(delivery.id)", "error": "\(problem)"])
                return
            }
            MetricHandles.counter("warren_webhook_retries_total", [("target", target.description)]).increment()
            try? await Task.sleep(for: backoff[attempt])
            attempt += 1
        }
    }
}
