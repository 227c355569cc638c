import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// A webhook receiver on loopback: records every delivery attempt, and answers 500 to the
/// first attempt of each delivery (so every event is retried once), 200 after.
final class WebhookReceiver: @unchecked Sendable {
    struct Attempt: Sendable {
        var delivery: String
        var event: String
        var timestamp: String
        var signature: String
        var body: [UInt8]
        var status: Int
    }

    private let attempts = Mutex<[Attempt]>([])
    private var task: Task<Void, any Error>?
    private(set) var port = 0
    var url: String { "http://127.0.0.1:\(port)/hook" }
    var all: [Attempt] { attempts.withLock { $0 } }

    func start() async throws {
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(responder: Responder(owner: self),
                              configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "webhook-receiver"),
                              onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) })
        task = Task { try await app.run() }
        for await p in stream {
            port = p
            break
        }
    }

    func stop() { task?.cancel() }

    struct Responder: HTTPResponder {
        typealias Context = BasicRequestContext
        let owner: WebhookReceiver

        func respond(to request: Request, context: Context) async throws -> Response {
            let body = try await request.body.collect(upTo: 1 << 20)
            let delivery = request.headers[HTTPField.Name("X-Warren-Delivery")!] ?? ""
            let status = owner.attempts.withLock { list -> Int in
                let status = list.contains { $0.delivery == delivery } ? 200 : 500
                list.append(Attempt(delivery: delivery, event: request.headers[HTTPField.Name("X-Warren-Event")!] ?? "",
                                    timestamp: request.headers[HTTPField.Name("X-Warren-Timestamp")!] ?? "",
                                    signature: request.headers[HTTPField.Name("X-Warren-Signature")!] ?? "",
                                    body: Array(body.readableBytesView), status: status))
                return status
            }
            return Response(status: .init(code: status))
        }
    }
}
