import Foundation
import Logging
import ServiceLifecycle
import WarrenCore

/// The access layer `warren serve` runs with: nil when the settings leave the door open
/// (no credentials are then looked at, at no cost), else the policy with a token cache
/// filled from the index's database before the first request, and the audit log.
enum AccessSetup {
    static func make(settings: ServeSettings, tokens: (any TokenStore)?, external: (any ExternalCredentials)? = nil,
                     logger: Logger) async throws -> AccessControl? {
        let policy = settings.access
        if !isLoopback(settings.host), policy.anonymous == .fetch {
            logger.warning("anyone who can reach this address may read and fetch every module no permission rule names (--anonymous fetch): set --anonymous read or off, or add permissions", metadata: ["listen": "\(settings.host)"])
        }
        let unprotected = policy.unprotected(settings.privatePatterns)
        if !unprotected.isEmpty {
            logger.warning("private modules that no permission rule names are open to callers without a token",
                           metadata: ["private": "\(unprotected.joined(separator: ","))"])
        }
        guard !policy.isOpen || settings.auditLog != nil || settings.oidc.isConfigured || external != nil || !settings.policy.isEmpty else { return nil }
        var cache: TokenCache?
        if let tokens {
            let c = TokenCache(store: tokens)
            try await c.refresh()
            cache = c
        }
        let audit: AuditLog
        do {
            audit = try AuditLog(path: settings.auditLog, store: tokens as? any AuditStore)
        } catch {
            throw ServeSettings.Problem(description: "cannot open the audit log \(settings.auditLog ?? ""): \(error)")
        }
        return AccessControl(policy: policy, authenticator: Authenticator(tokens: cache, external: external), audit: audit)
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "127.0.0.1" || host == "::1" || host == "localhost" || host.hasPrefix("127.")
    }
}

/// Keeps the token cache current: reloads tokens within a second of a change anywhere
/// (another replica, `warren token revoke`), writes last-use times every 10 s, and the
/// audit events to the database every second.
struct TokenRefresher: Service {
    let tokens: TokenCache
    let audit: AuditLog?
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var ticks = 0
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                do {
                    try await tokens.refresh()
                } catch {
                    if ticks % 30 == 0 { logger.warning("cannot reload tokens (the ones known stay in force)", metadata: ["error": "\(error)"]) }
                }
                ticks += 1
                await audit?.flush()
                if ticks % 10 == 0 { await tokens.flushUses() }
            }
        }
        await tokens.flushUses()
        await audit?.flush()
    }
}
