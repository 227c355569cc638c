import ArgumentParser

/// The storage and database `warren serve` uses, found from the same settings: what the
/// commands that work on the stored artifacts beside a running server (`warren index
/// rebuild`, `warren cache gc`) open.
struct StorageOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: ArgumentHelp("As for warren serve.", valueName: "dir"))
    var dataDir: String?
    @Option(help: ArgumentHelp("YAML configuration file, as for warren serve.", valueName: "file"))
    var config: String?
    @Option(help: ArgumentHelp("As for warren serve: dir or s3://BUCKET/PREFIX.", valueName: "storage"))
    var storage: String?
    @Option(name: .customLong("s3-endpoint"), help: ArgumentHelp("As for warren serve.", valueName: "url"))
    var s3Endpoint: String?
    @Option(help: ArgumentHelp("As for warren serve: sqlite, sqlite:PATH or postgres://….", valueName: "url"))
    var database: String?

    /// The settings given, by key, as `ServeSettings.resolve` takes flags.
    var flags: [String: String] {
        var out: [String: String] = [:]
        for (key, value) in [("data-dir", dataDir), ("storage", storage), ("s3-endpoint", s3Endpoint), ("database", database)] {
            if let value { out[key] = value }
        }
        return out
    }
}
