import ArgumentParser
import Foundation
import Logging

/// The settings of `warren serve` that decide what is verified, for the commands that
/// work beside it on the same store (mirror, export, import): on the command line they
/// override the config file, as for serve.
struct VerificationOptions: ParsableArguments {
    @Option(help: ArgumentHelp("As for warren serve (repeatable).", valueName: "db"))
    var sumdb: [String] = []
    @Option(help: ArgumentHelp("As for warren serve.", valueName: "patterns"))
    var nosumdb: String?
    @Option(name: .customLong("private"), help: ArgumentHelp("As for warren serve.", valueName: "patterns"))
    var privatePatterns: String?

    func apply(to flags: inout [String: String]) {
        for (key, value) in [("nosumdb", nosumdb), ("private", privatePatterns), ("sumdb", sumdb.isEmpty ? nil : sumdb.joined(separator: ","))] {
            if let value { flags[key] = value }
        }
    }
}

extension MirrorEngine {
    /// The settings and the engine for `command` (named in the error, exit status 2, when
    /// the settings are wrong or the store cannot be opened).
    static func open(command: String, flags: [String: String], configFile: String?) async throws -> (ServeSettings, MirrorEngine) {
        var logger = Logger(label: "warren")
        logger.logLevel = .warning
        do {
            let settings = try ServeSettings.resolve(flags: flags, environment: ProcessInfo.processInfo.environment, configFile: configFile)
            return (settings, try await MirrorEngine.open(settings: settings, logger: logger))
        } catch {
            printError("warren \(command): \(error)")
            throw ExitCode(2)
        }
    }
}
