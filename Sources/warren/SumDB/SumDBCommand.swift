import ArgumentParser
import Foundation
import GoModule
import Logging
import WarrenCore

/// `warren sumdb init|audit`: Warren's own checksum database, in the database `warren
/// serve` uses (same `--config`, `--data-dir`, `--database`).
struct SumDBCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sumdb",
        abstract: "Create and audit Warren's own checksum database.",
        subcommands: [SumDBInitCommand.self, SumDBAuditCommand.self]
    )
}

struct SumDBInitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create the checksum database and its signing key; print the verifier key for GOSUMDB."
    )

    @Option(help: ArgumentHelp("The database's name, as clients will write it in GOSUMDB (e.g. sum.corp.example.com).", valueName: "name"))
    var name: String

    @Option(name: .customLong("key-file"), help: ArgumentHelp("Where to write the signing key (mode 0600; never replaced). (default: DATA_DIR/sumdb-signer.key)", valueName: "file"))
    var keyFile: String?

    @Option(name: .customLong("public-url"), help: ArgumentHelp("The URL clients reach Warren at, for the GOSUMDB line printed. (default: https://HOST)", valueName: "url"))
    var publicURL: String?

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        try await database.withIndex("sumdb init") { index, settings, _ in
            guard let store = index as? any ChecksumLogStore else { throw ValidationError("this database keeps no checksum database") }
            let signer: NoteSigner
            do {
                signer = try NoteSigner(generatingFor: name)
            } catch {
                throw ValidationError("\(error)")
            }
            if let existing = try await store.checksumLog() {
                throw ChecksumLogExists(name: existing.name)
            }
            let path = keyFile.map { ($0 as NSString).expandingTildeInPath } ?? SigningKeyFile.defaultPath(dataDirectory: settings.dataDirectory)
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try SigningKeyFile.write(signer, to: path)
            do {
                try await ChecksumLog.create(in: store, signer: signer)
            } catch {
                unlink(path)
                throw error
            }
            var base = publicURL ?? settings.oidc.publicURL ?? "https://HOST"
            while base.hasSuffix("/") { base.removeLast() }
            print("checksum database \(name) created; its signing key is in \(path) (keep it secret; every replica that accepts publishes needs it)")
            print("verifier key: \(signer.verifierKey)")
            print("clients: go env -w GOSUMDB=\"\(signer.verifierKey) \(base)/sumdb/\(name)\"")
        }
    }
}

struct SumDBAuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Recompute the whole checksum database from its records and check it against the signed tree head."
    )

    @Option(help: ArgumentHelp("Check the head against this verifier key (NAME+HASH+KEY) rather than the one the database names.", valueName: "key"))
    var key: String?

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let trusted: VerifierKey?
        do {
            trusted = try key.map { try VerifierKey($0) }
        } catch {
            throw ValidationError("--key: \(error)")
        }
        try await database.withIndex("sumdb audit") { index, _, _ in
            guard let store = index as? any ChecksumLogStore else { throw ValidationError("this database keeps no checksum database") }
            let log = try await ChecksumLog(store: store, signer: nil, logger: Logger(label: "warren"))
            let report = try await log.audit(trusting: trusted)
            print("ok: checksum database \(log.name) holds \(report.size) records; tree hash \(report.treeHash) is the signed one")
        }
    }
}
