import Logging
import ServiceLifecycle
import WarrenCore

/// Keeps the supply-chain policy's vulnerability records current: `warren vuln import`
/// on any machine takes effect on every replica within about two seconds (answers the
/// fast path remembered are decided again from then on). With vulnerabilities off, a
/// refresh reads nothing (a reload may turn them on).
struct PolicyRefresher: Service {
    let policy: ModulePolicy
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var failures = 0
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(2))
                do {
                    if try await policy.refresh() { logger.notice("vulnerability records reloaded") }
                    failures = 0
                } catch {
                    if failures % 30 == 0 {
                        logger.warning("cannot reload vulnerability records (the ones loaded stay in force)", metadata: ["error": "\(error)"])
                    }
                    failures += 1
                }
            }
        }
    }
}
