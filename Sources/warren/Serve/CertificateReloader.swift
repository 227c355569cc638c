import Logging
import ServiceLifecycle
import WarrenServer

/// Re-reads the TLS certificate and key when either file changes (checked every 2 s), as
/// a renewal tool (certbot, cert-manager) expects, and on SIGHUP (through the
/// `ConfigurationReloader`, which traps the signal): new connections get the new
/// certificate, open ones keep theirs. A renewal that does not load is logged and the
/// current certificate stays.
struct CertificateReloader: Service {
    let store: TLSCertificateStore
    let logger: Logger
    var checkInterval: Duration = .seconds(2)

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: checkInterval)
                if store.filesChanged { reload(because: "the files changed") }
            }
        }
    }

    func reload(because reason: String) {
        do {
            try store.reload()
            logger.notice("TLS certificate reloaded", metadata: ["certificate": "\(store.certificatePath)", "reason": "\(reason)"])
        } catch {
            logger.error("TLS certificate not reloaded; the current one stays", metadata: [
                "reason": "\(reason)", "error": "\(error)"])
        }
    }
}
