import ArgumentParser
import Foundation
import GoModule
import Logging
import WarrenCore

/// `warren export --tree DIR`: what Warren holds as a plain GOPROXY file tree.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the cached and hosted modules as a plain GOPROXY file tree (for GOPROXY=file:///… or another proxy).",
        discussion: "Safe while warren serve runs on the same storage. A second export into the same tree adds to it (use --since for weekly transfers)."
    )

    @Option(help: ArgumentHelp("The directory to write (created if missing).", valueName: "dir"))
    var tree: String
    @Option(help: ArgumentHelp("Only versions Warren stored on or after this day (2026-11-01) or time (RFC 3339).", valueName: "date"))
    var since: String?
    @Option(help: ArgumentHelp("Only these modules: a file of module path patterns, one per line (GOPRIVATE syntax).", valueName: "file"))
    var modules: String?
    @OptionGroup var options: StorageOptions

    func run() async throws {
        var sinceTime: Double?
        if let since {
            let full = ISO8601DateFormatter().date(from: since) ?? ISO8601DateFormatter().date(from: since + "T00:00:00Z")
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
        let logger = Logger(label: "warren")
        let opened: OpenedStorage
        do {
            let settings = try ServeSettings.resolve(flags: options.flags, environment: ProcessInfo.processInfo.environment, configFile: options.config)
            opened = try await OpenedStorage.open(settings: settings, environment: ProcessInfo.processInfo.environment, logger: logger, sweep: false)
        } catch {
            printError("warren export: \(error)")
            throw ExitCode(2)
        }
        do {
            let report = try await GoproxyTreeExport(storage: opened.storage, index: opened.index).run(to: tree, since: sinceTime, include: include)
            await opened.shutdown()
            print("exported \(report.versions) versions (\(report.files) files, \(report.bytes) bytes) to \(tree)")
        } catch {
            await opened.shutdown()
            printError("warren export: \(error)")
            throw ExitCode(1)
        }
    }
}
