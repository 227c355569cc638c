import ArgumentParser
import Foundation
import Logging
import WarrenCore

/// `warren index rebuild`: the metadata index made again from storage, the source of
/// truth. Takes the same settings as `warren serve` (flags, `WARREN_*`, the config file),
/// so it reaches the same storage and database.
struct IndexCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Work with the metadata index.",
        subcommands: [RebuildIndexCommand.self]
    )
}

struct RebuildIndexCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild",
        abstract: "Record every artifact in storage in the metadata index (safe while warren serve runs).",
        discussion: "Reads the storage and database that warren serve would use with the same settings."
    )

    @OptionGroup var options: StorageOptions

    func run() async throws {
        let flags = options.flags
        let environment = ProcessInfo.processInfo.environment
        let logger = Logger(label: "warren")
        let opened: OpenedStorage
        do {
            let settings = try ServeSettings.resolve(flags: flags, environment: environment, configFile: options.config)
            opened = try await OpenedStorage.open(settings: settings, environment: environment, logger: logger)
        } catch {
            printError("warren index rebuild: \(error)")
            throw ExitCode(2)
        }
        let indexing = opened.storage
        do {
            let count = try await indexing.rebuildIndex()
            await opened.shutdown()
            print("indexed \(count) artifacts from \(opened.displayName)")
        } catch {
            await opened.shutdown()
            printError("warren index rebuild: \(error)")
            throw ExitCode(1)
        }
    }
}
