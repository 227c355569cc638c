import ArgumentParser
import Foundation
import Logging
import WarrenCore

/// `warren storage copy --from … --to …`: an existing cache moved between backends (a
/// single node's directory into the bucket of a cluster, or back), the target's metadata
/// index filled on the way.
struct StorageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "storage",
        abstract: "Work with artifact storage.",
        subcommands: [StorageCopyCommand.self]
    )
}

struct StorageCopyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Copy every stored module version from one storage to another, checking each zip's h1:.",
        discussion: """
        --from and --to take a data directory (dir:PATH, the --data-dir of a warren serve) or \
        s3://BUCKET/PREFIX. Object storage settings (--s3-endpoint, AWS_* credentials) and \
        --database are as for warren serve; the index of the target is filled as it is written.
        """
    )

    @Option(help: ArgumentHelp("Where to copy from: dir:DATA_DIR or s3://BUCKET/PREFIX.", valueName: "storage"))
    var from: String
    @Option(help: ArgumentHelp("Where to copy to: dir:DATA_DIR or s3://BUCKET/PREFIX.", valueName: "storage"))
    var to: String
    @Option(name: .customLong("data-dir"), help: ArgumentHelp("The data directory for an s3:// target's local tier and SQLite index. (default: as for warren serve)", valueName: "dir"))
    var dataDir: String?
    @Option(help: ArgumentHelp("YAML configuration file, as for warren serve.", valueName: "file"))
    var config: String?
    @Option(name: .customLong("s3-endpoint"), help: ArgumentHelp("As for warren serve.", valueName: "url"))
    var s3Endpoint: String?
    @Option(help: ArgumentHelp("The target's metadata index, as for warren serve.", valueName: "url"))
    var database: String?

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let logger = Logger(label: "warren")
        let source: OpenedStorage, target: OpenedStorage
        do {
            source = try await open(from, index: "sqlite:" + NSTemporaryDirectory() + "/warren-copy-source-\(getpid()).sqlite",
                                    environment: environment, logger: logger, sweep: false)
            target = try await open(to, index: database, environment: environment, logger: logger, sweep: true)
        } catch {
            printError("warren storage copy: \(error)")
            throw ExitCode(2)
        }
        defer { unlink(NSTemporaryDirectory() + "/warren-copy-source-\(getpid()).sqlite") }
        let base = source.storage.base
        do {
            let report = try await StorageCopy(source: base, target: target.storage).run()
            await source.shutdown()
            await target.shutdown()
            print("copied \(report.copied) artifacts (\(report.bytes) bytes) from \(source.displayName) to \(target.displayName)")
            for line in report.skipped { printError("skipped \(line)") }
            if !report.skipped.isEmpty { throw ExitCode(1) }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            await source.shutdown()
            await target.shutdown()
            printError("warren storage copy: \(error)")
            throw ExitCode(1)
        }
    }

    /// A storage from `dir:PATH` (a data directory) or `s3://…`, with warren serve's other
    /// settings.
    func open(_ spec: String, index: String?, environment: [String: String], logger: Logger, sweep: Bool) async throws -> OpenedStorage {
        var flags: [String: String] = [:]
        if spec.hasPrefix("dir:") {
            flags["data-dir"] = String(spec.dropFirst(4))
            flags["storage"] = "dir"
        } else {
            flags["storage"] = spec
            if let dataDir { flags["data-dir"] = dataDir }
        }
        if let s3Endpoint { flags["s3-endpoint"] = s3Endpoint }
        if let index { flags["database"] = index }
        let settings = try ServeSettings.resolve(flags: flags, environment: environment, configFile: config)
        return try await OpenedStorage.open(settings: settings, environment: environment, logger: logger, sweep: sweep)
    }
}
