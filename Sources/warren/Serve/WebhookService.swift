import ServiceLifecycle
import WarrenCore

/// Runs the webhook deliveries beside the server until shutdown.
struct WebhookService: Service {
    let dispatcher: WebhookDispatcher

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await dispatcher.run()
        }
    }
}
