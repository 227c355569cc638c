import ArgumentParser
import Foundation
import Logging
import WarrenCore

/// The database `warren serve` uses, found from the same settings (`--config`,
/// `--data-dir`, `--database`): what the commands that change it beside a running
/// server (`warren token`, `warren sumdb`) open.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: ArgumentHelp("As for warren serve.", valueName: "dir"))
    var dataDir: String?
    @Option(help: ArgumentHelp("YAML configuration file, as for warren serve.", valueName: "file"))
    var config: String?
    @Option(help: ArgumentHelp("As for warren serve: sqlite, sqlite:PATH or postgres://….", valueName: "url"))
    var database: String?
    @Option(name: .customLong("audit-log"), help: ArgumentHelp("As for warren serve: record the change there too.", valueName: "file"))
    var auditLog: String?

    /// Runs `body` with the index, the resolved settings and the audit log, closing the
    /// index after. Failures to open exit 2; failures of `body` exit 1 with its message.
    func withIndex<T>(_ command: String, _ body: (any MetadataIndex, ServeSettings, AuditLog?) async throws -> T) async throws -> T {
        var flags: [String: String] = [:]
        for (key, value) in [("data-dir", dataDir), ("database", database), ("audit-log", auditLog)] {
            if let value { flags[key] = value }
        }
        let index: any MetadataIndex
        let audit: AuditLog?
        let settings: ServeSettings
        do {
            settings = try ServeSettings.resolve(flags: flags, environment: ProcessInfo.processInfo.environment, configFile: config)
            index = try await OpenedStorage.openIndex(settings, logger: Logger(label: "warren"))
            audit = try AuditLog(path: settings.auditLog, store: index as? any AuditStore)
        } catch {
            printError("warren \(command): \(error)")
            throw ExitCode(2)
        }
        do {
            let result = try await body(index, settings, audit)
            await audit?.flush()
            await index.close()
            return result
        } catch let exit as ExitCode {
            await index.close()
            throw exit
        } catch {
            await index.close()
            printError("warren \(command): \(error)")
            throw ExitCode(1)
        }
    }

    /// `withIndex` for the token commands: the index as a token store.
    func withStore<T>(_ command: String, _ body: (any TokenStore, AuditLog?) async throws -> T) async throws -> T {
        try await withIndex("token \(command)") { index, _, audit in
            guard let store = index as? any TokenStore else {
                printError("warren token \(command): this database keeps no tokens")
                throw ExitCode(2)
            }
            return try await body(store, audit)
        }
    }
}
