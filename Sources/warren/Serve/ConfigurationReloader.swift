import Foundation
import GoModule
import Logging
import ServiceLifecycle
import Synchronization
import UnixSignals
import WarrenCore
import WarrenServer

/// Live reconfiguration: on SIGHUP, and when the config file changes (checked every 2 s),
/// the settings are resolved again (flags > WARREN_* > the file) and what may change
/// while serving is put in force at once — the upstream chain and its timeouts, private,
/// insecure, hosted and `nosumdb` patterns, credentials, the supply-chain policy, the
/// access rules, cache limits and the log level — without touching a connection or a
/// download in flight (each request keeps the configuration it started with). The TLS
/// certificate is re-read too.
///
/// A config that does not resolve is refused as a whole, with a log line naming the key,
/// and the one in force stays. Keys that only a restart can change (the address, storage,
/// database, TLS on or off, …) are named in a warning and keep their running values.
struct ConfigurationReloader: Service {
    let source: ServeSettings.Source
    let current: SharedMutex<Applied>
    let proxy: ModuleProxy
    let clients: HTTPClientFactory
    let access: AccessControl?
    let policy: ModulePolicy?
    let accessLog: AccessLog
    let certificates: CertificateReloader?
    let logger: Logger
    var checkInterval: Duration = .seconds(2)

    /// The settings in force and the raw values they came from.
    struct Applied: Sendable {
        var settings: ServeSettings
        var values: [String: ServeSettings.Value]
        var fileStamp: Date?
    }

    /// Keys a reload puts in force; every other key needs a restart.
    static let reloadable: Set<String> = [
        "upstream", "list-ttl", "header-timeout", "total-timeout", "retries", "log-level", "nosumdb", "private", "insecure",
        "govcs", "direct-prefetch", "credentials", "netrc", "hosted", "sumdb-log", "policy", "vulnerabilities", "anonymous",
        "permissions", "hide-forbidden", "metrics-access", "cache-max-size", "cache-max-age", "cache-min-age",
        "disable-fetch",
    ]

    func run() async throws {
        MetricHandles.gauge("warren_config_last_reload_successful", []).record(1)
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await _ in await UnixSignalsSequence(trapping: .sighup) {
                        await reload(because: "SIGHUP")
                        certificates?.reload(because: "SIGHUP")
                    }
                }
                if let path = source.configPath {
                    group.addTask {
                        while !Task.isCancelled {
                            try? await Task.sleep(for: checkInterval)
                            let stamp = Self.modificationDate(path)
                            if stamp != current.withLock({ $0.fileStamp }) { await reload(because: "the config file changed") }
                        }
                    }
                }
                await group.waitForAll()
            }
        }
    }

    static func modificationDate(_ path: String) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
    }

    /// Resolves the settings again and applies what changed; returns whether it did.
    @discardableResult
    func reload(because reason: String) async -> Bool {
        let stamp = source.configPath.flatMap(Self.modificationDate)
        let values: [String: ServeSettings.Value]
        let settings: ServeSettings
        do {
            values = try ServeSettings.effectiveValues(flags: source.flags, environment: source.environment, configFile: source.configFile)
            settings = try ServeSettings.resolve(values)
            _ = try ProxyList(settings.upstream)
        } catch {
            return refuse(error, because: reason, stamp: stamp)
        }
        let old = current.withLock { $0 }
        let changed = Set(ServeSettings.keys.filter { old.values[$0]?.value != values[$0]?.value })
        let needRestart = changed.subtracting(Self.reloadable).sorted()
        if !needRestart.isEmpty {
            logger.warning("these settings change only with a restart; their running values stay", metadata: ["keys": "\(needRestart.joined(separator: ","))"])
        }
        // The running values of restart-only keys stay: apply the new reloadable ones on top.
        var effective = old.values
        for key in Self.reloadable { effective[key] = values[key] }
        let next: ServeSettings
        do {
            next = try ServeSettings.resolve(effective)
            try await apply(next, changed: changed)
        } catch {
            return refuse(error, because: reason, stamp: stamp)
        }
        current.withLock { $0 = Applied(settings: next, values: effective, fileStamp: stamp) }
        MetricHandles.counter("warren_config_reloads_total", [("result", "applied")]).increment()
        MetricHandles.gauge("warren_config_last_reload_successful", []).record(1)
        logger.notice("configuration reloaded", metadata: [
            "reason": "\(reason)", "changed": "\(changed.intersection(Self.reloadable).sorted().joined(separator: ","))",
        ])
        return true
    }

    /// Keeps the configuration in force, says why, and remembers the file's version so the
    /// same bad file is not refused every two seconds.
    func refuse(_ error: any Error, because reason: String, stamp: Date?) -> Bool {
        current.withLock { $0.fileStamp = stamp }
        MetricHandles.counter("warren_config_reloads_total", [("result", "refused")]).increment()
        MetricHandles.gauge("warren_config_last_reload_successful", []).record(0)
        logger.error("configuration not reloaded; the one in force stays", metadata: ["reason": "\(reason)", "error": "\(error)"])
        return false
    }

    /// Puts `settings` in force: everything is built before anything is swapped, so a
    /// failure leaves the old configuration whole.
    func apply(_ settings: ServeSettings, changed: Set<String>) async throws {
        let configuration = try WarrenServe.proxyConfiguration(settings, environment: source.environment)
        if access == nil, !settings.access.isOpen {
            throw ServeSettings.Problem(description: "permissions: access control was off at start; turning it on needs a restart")
        }
        await policy?.replace(rules: settings.policy, vulnerabilities: settings.vulnerabilities)
        proxy.reconfigure(configuration, clients: clients)
        proxy.checksums?.replaceUnverified(settings.unverified)
        access?.replacePolicy(settings.access)
        let level = Logger.Level(rawValue: settings.logLevel) ?? .info
        LineLogHandler.setProcessLevel(level)
        accessLog.setEnabled(level <= .info)
    }
}

extension ServeSettings {
    /// One key's raw value and where it came from.
    typealias Value = (source: String, value: String)

    /// Where the settings come from, kept so a reload can resolve them again.
    struct Source: Sendable {
        var flags: [String: String]
        var environment: [String: String]
        var configFile: String?
        var configPath: String? { configFile ?? environment["WARREN_CONFIG"] }
    }
}
