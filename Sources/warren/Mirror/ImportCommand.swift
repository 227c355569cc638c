import ArgumentParser
import Foundation
import GoModule
import WarrenCore

/// `warren import bundle.tar`: a bundle from `warren export -o`, checked offline against
/// the configured checksum database's key before anything is stored.
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Check a bundle from warren export -o offline, then store its modules and checksum-database proofs.",
        discussion: """
        Every artifact's SHA-256 and h1:, every record's proof and the tree head's signature (against --sumdb's key) are checked first; the first failure refuses the whole bundle, naming the entry. Afterwards /sumdb/NAME/ answers the carried lookups and tiles without the database, so the go command verifies with GOSUMDB on. Import weekly bundles in the order they were written. Safe while warren serve runs on the same storage. (A developer's module cache: warren mirror --modcache DIR.)
        """
    )

    @Argument(help: ArgumentHelp("The bundle.", valueName: "file"))
    var bundle: String
    @OptionGroup var options: StorageOptions
    @OptionGroup var verification: VerificationOptions
    @Option(name: .customLong("bundle-key"), help: ArgumentHelp("Require a bundle signed by this key (the exporting Warren's verifier key, NAME+HASH+KEY, from warren sumdb init; repeatable).", valueName: "key"))
    var bundleKeys: [String] = []

    func run() async throws {
        let keys: [VerifierKey]
        do {
            keys = try bundleKeys.map { try VerifierKey($0) }
        } catch {
            throw ValidationError("--bundle-key: \(error)")
        }
        var flags = options.flags
        verification.apply(to: &flags)
        let (settings, engine) = try await MirrorEngine.open(command: "import", flags: flags, configFile: options.config)
        let importer = BundleImport(storage: engine.opened.storage, checksums: engine.proxy.checksums,
                                    hosted: engine.proxy.configuration.hosted,
                                    scratch: settings.dataDirectory + "/.import-\(UUID().uuidString)", bundleKeys: keys)
        do {
            let report = try await importer.run(bundle: bundle)
            await engine.shutdown()
            print("imported \(report.versions) versions from \(bundle): \(report.stored) artifacts stored, \(report.alreadyHeld) already held; "
                + "\(report.records) checksum records and \(report.tiles) tiles kept"
                + (report.signedBy.map { "; signed by \($0)" } ?? ""))
        } catch {
            await engine.shutdown()
            printError("warren import: \(error)")
            throw ExitCode(1)
        }
    }
}
