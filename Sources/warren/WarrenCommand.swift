import ArgumentParser

/// The `warren` command line: argument parsing and wiring only; the work lives in the
/// libraries below it.
@main
struct WarrenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "warren",
        abstract: "A Go module proxy, and the tools to package, audit and diagnose Go modules.",
        version: WarrenVersion.current,
        subcommands: [ServeCommand.self, ModCommand.self, DoctorCommand.self, BenchCommand.self, IndexCommand.self, StorageCommand.self, TokenCommand.self, LoginCommand.self, PublishCommand.self, SumDBCommand.self, VulnCommand.self, CacheCommand.self, MirrorCommand.self, ExportCommand.self, ImportCommand.self]
    )
}

enum WarrenVersion {
    static let current = "0.1.0-dev"
}
