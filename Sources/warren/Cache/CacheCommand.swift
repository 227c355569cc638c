import ArgumentParser
import Foundation
import Logging
import WarrenCore

/// `warren cache gc|pin|unpin|pins`: eviction at once (or what it would do), and the
/// module patterns it never touches. Safe while `warren serve` runs on the same storage.
struct CacheCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache",
        abstract: "Evict from the cache now, or pin modules so they are never evicted.",
        subcommands: [CacheGCCommand.self, CachePinCommand.self, CacheUnpinCommand.self, CachePinsCommand.self]
    )
}

struct CacheGCCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Evict what is over --cache-max-size or --cache-max-age now, least recently used first (never hosted or pinned modules)."
    )

    @Flag(name: .customLong("dry-run"), help: "Show what would be evicted, and why, without removing anything.")
    var dryRun = false
    @OptionGroup var options: StorageOptions
    @Option(name: .customLong("hosted"), help: ArgumentHelp("As for warren serve: never evicted.", valueName: "patterns"))
    var hosted: String?
    @Option(name: .customLong("cache-max-size"), help: ArgumentHelp("As for warren serve.", valueName: "size"))
    var cacheMaxSize: String?
    @Option(name: .customLong("cache-max-age"), help: ArgumentHelp("As for warren serve.", valueName: "duration"))
    var cacheMaxAge: String?
    @Option(name: .customLong("cache-min-age"), help: ArgumentHelp("As for warren serve. (default: 10m)", valueName: "duration"))
    var cacheMinAge: String?

    func run() async throws {
        var flags = options.flags
        for (key, value) in [("hosted", hosted), ("cache-max-size", cacheMaxSize), ("cache-max-age", cacheMaxAge), ("cache-min-age", cacheMinAge)] {
            if let value { flags[key] = value }
        }
        let environment = ProcessInfo.processInfo.environment
        let logger = Logger(label: "warren")
        let settings: ServeSettings
        let opened: OpenedStorage
        do {
            settings = try ServeSettings.resolve(flags: flags, environment: environment, configFile: options.config)
            guard settings.evictionLimits.isEnabled else { throw ValidationError("give --cache-max-size or --cache-max-age (or set them in the config file)") }
            opened = try await OpenedStorage.open(settings: settings, environment: environment, logger: logger, sweep: false)
        } catch {
            printError("warren cache gc: \(error)")
            throw ExitCode(2)
        }
        let evictor = CacheEvictor(storage: opened.storage, index: opened.index, pins: opened.index as? any PinStore, hosted: settings.hosted,
                                   limits: settings.evictionLimits, coordinator: opened.coordinator, logger: logger)
        do {
            let plan: CacheEvictor.Plan
            if dryRun {
                plan = try await evictor.plan()
            } else {
                guard let done = try await evictor.run() else {
                    await opened.shutdown()
                    print("another replica is evicting now; nothing done")
                    return
                }
                plan = done
            }
            await opened.shutdown()
            for v in plan.victims {
                print("\(dryRun ? "would evict" : "evicted") \(v.module)@\(v.version) (\(v.kinds.map(\.rawValue).joined(separator: ", ")), \(v.bytes) bytes): \(v.reason)")
            }
            print("cached zips: \(plan.bytesBefore) bytes \(dryRun ? "now, \(plan.bytesAfter) after" : "before, \(plan.bytesAfter) after")")
        } catch {
            await opened.shutdown()
            printError("warren cache gc: \(error)")
            throw ExitCode(1)
        }
    }
}

struct CachePinCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pin", abstract: "Never evict modules matching a pattern (GOPRIVATE syntax).")
    @Argument(help: "A module path pattern, e.g. github.com/corp/* or golang.org/x/text.")
    var pattern: String
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        guard (try? ServeSettings.parsePatterns(pattern)) != nil else { throw ValidationError("malformed pattern \(pattern)") }
        try await database.withIndex("cache pin") { index, _, _ in
            guard let pins = index as? any PinStore else { throw ValidationError("this database keeps no pins") }
            try await pins.pin(pattern)
            print("pinned \(pattern)")
        }
    }
}

struct CacheUnpinCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "unpin", abstract: "Let modules matching a pinned pattern be evicted again.")
    @Argument(help: "A pattern given to warren cache pin.")
    var pattern: String
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        try await database.withIndex("cache unpin") { index, _, _ in
            guard let pins = index as? any PinStore else { throw ValidationError("this database keeps no pins") }
            guard try await pins.unpin(pattern) else { throw ValidationError("\(pattern) was not pinned") }
            print("unpinned \(pattern)")
        }
    }
}

struct CachePinsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pins", abstract: "List the pinned patterns.")
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        try await database.withIndex("cache pins") { index, _, _ in
            guard let pins = index as? any PinStore else { throw ValidationError("this database keeps no pins") }
            for p in try await pins.pins() { print(p) }
        }
    }
}
