import ArgumentParser
import Foundation
import GoModule
import WarrenCore

/// `warren export -o bundle.tar` (an air-gapped bundle with checksum-database proofs) and
/// `warren export --tree DIR` (a plain GOPROXY file tree).
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the cached and hosted modules as a bundle for an air-gapped Warren (-o), or as a plain GOPROXY file tree (--tree).",
        discussion: """
        A bundle (-o FILE) carries, for every public module version, the checksum database's record and the tiles that prove it in one signed tree head; `warren import FILE` checks all of it offline. Weekly bundles: --since the last one; each proves what earlier bundles carried against its newer head (the data directory's bundle-ledger.json remembers them), so import them in order. Safe while warren serve runs on the same storage.
        """
    )

    @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp("Write a bundle to this file.", valueName: "file"))
    var output: String?
    @Option(help: ArgumentHelp("Write a plain GOPROXY file tree into this directory instead (created if missing).", valueName: "dir"))
    var tree: String?
    @Option(help: ArgumentHelp("Only versions Warren stored on or after this day (2026-11-01) or time (RFC 3339).", valueName: "date"))
    var since: String?
    @Option(help: ArgumentHelp("Only these modules: a file of module path patterns, one per line (GOPRIVATE syntax).", valueName: "file"))
    var modules: String?
    @Flag(help: "Every module (the default when --modules is not given).")
    var all = false
    @Flag(help: "A bundle that stands alone: ignore what earlier bundles carried.")
    var fresh = false
    @Flag(help: "Sign the bundle with this Warren's checksum-database key (--sumdb-key, else DATA_DIR/sumdb-signer.key from warren sumdb init), so an importer with --bundle-key knows all of it, private modules included, came from here.")
    var sign = false
    @OptionGroup var options: StorageOptions
    @OptionGroup var verification: VerificationOptions

    func validate() throws {
        guard (output == nil) != (tree == nil) else { throw ValidationError("name one of -o FILE (a bundle) or --tree DIR") }
        if all && modules != nil { throw ValidationError("--all and --modules exclude each other") }
        if (fresh || sign) && output == nil { throw ValidationError("--fresh and --sign are for bundles (-o)") }
    }

    func run() async throws {
        var sinceTime: Double?
        if let since {
            let fractional = ISO8601DateFormatter()
            fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            let full = ISO8601DateFormatter().date(from: since) ?? fractional.date(from: since) ?? ISO8601DateFormatter().date(from: since + "T00:00:00Z")
            guard let full else { throw ValidationError("--since: want 2026-11-01 or 2026-11-01T12:00:00Z") }
            sinceTime = full.timeIntervalSince1970
        }
        var include: @Sendable (String) -> Bool = { _ in true }
        if let modules {
            let text = try String(contentsOfFile: modules, encoding: .utf8)
            let patterns = ModulePathPatterns(text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty && !$0.hasPrefix("#") }.joined(separator: ","))
            include = { patterns.matches($0) }
        }
        var flags = options.flags
        verification.apply(to: &flags)
        let (settings, engine) = try await MirrorEngine.open(command: "export", flags: flags, configFile: options.config)
        do {
            if let tree {
                let report = try await GoproxyTreeExport(storage: engine.opened.storage, index: engine.opened.index).run(to: tree, since: sinceTime, include: include)
                await engine.shutdown()
                print("exported \(report.versions) versions (\(report.files) files, \(report.bytes) bytes) to \(tree)")
                return
            }
            guard let output else { return }
            var signer: NoteSigner?
            if sign {
                signer = try SigningKeyFile.load(settings.sumdbKey, dataDirectory: settings.dataDirectory)
                guard signer != nil else {
                    throw ValidationError("--sign: no signing key (warren sumdb init makes one, or give --sumdb-key)")
                }
            }
            let export = BundleExport(storage: engine.opened.storage, index: engine.opened.index, checksums: engine.proxy.checksums,
                                      ledgerPath: settings.dataDirectory + "/bundle-ledger.json", signer: signer)
            let report = try await export.run(to: output, since: sinceTime, sinceText: since, fresh: fresh, include: include)
            await engine.shutdown()
            print("exported \(report.versions) versions (\(report.files) files, \(report.bytes) bytes) to \(output): "
                + "\(report.records) checksum records proved in a tree of \(report.treeSize) by \(report.tiles) tiles"
                + (report.tilesCarriedBefore > 0 ? " (\(report.tilesCarriedBefore) more carried by earlier bundles)" : "")
                + (signer.map { "; signed by \($0.name)" } ?? ""))
        } catch {
            await engine.shutdown()
            printError("warren export: \(error)")
            throw ExitCode(1)
        }
    }
}
