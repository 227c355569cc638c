import ArgumentParser
import Foundation
import GoModule
import WarrenClientTools

/// `warren bench`: the same module versions through several proxies, side by side.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Download the same module versions through several proxies; compare speed and contents.",
        discussion: """
        Inputs are module@version arguments, go.mod files (their requirements) or go.sum files (their lines, \
        whose hashes are checked too). Requests are interleaved across proxies with no client cache. Any \
        disagreement between proxies, with go.sum or with the checksum database is reported first.
        Exit status 0: all consistent and no failures; 1: inconsistencies or failed requests.
        """
    )

    @Option(name: .customLong("proxy"), help: "A proxy URL (repeat for each proxy to compare).")
    var proxies: [String] = []

    @Argument(help: "module@version, go.mod or go.sum")
    var inputs: [String] = []

    @Option(help: "Requests in flight at once.")
    var concurrency = 4

    @Option(help: "How many times each module version is downloaded through each proxy.")
    var repetitions = 3

    @Option(help: "Seconds per request.")
    var timeout: Double = 60

    @Option(help: "Report format: text, json, markdown or html.")
    var format: Format = .text

    @Option(name: [.short, .long], help: "Write the report to this file instead of standard output.")
    var output: String?

    @Option(help: "Checksum database to compare with, in GOSUMDB syntax (default: GOSUMDB; off to skip).")
    var sumdb: String?

    @Flag(inversion: .prefixedNo, help: "Show a progress bar on standard error (default: when it is a terminal).")
    var progress: Bool?

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json, markdown, html }

    func validate() throws {
        if proxies.isEmpty { throw ValidationError("give at least one --proxy URL") }
        if inputs.isEmpty { throw ValidationError("give module@version arguments, a go.mod or a go.sum") }
        if concurrency < 1 || repetitions < 1 { throw ValidationError("--concurrency and --repetitions must be at least 1") }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let goEnv = GoEnvironmentReader.read(environment: environment)
        var urls: [String] = []
        for p in proxies {
            do {
                let list = try ProxyList(p)
                guard list.entries.count == 1, case .url(let u) = list.entries[0].source, u.hasPrefix("http") else {
                    throw ValidationError("--proxy \(p): want one http(s) URL")
                }
                urls.append(u)
            } catch let e as ProxyList.ParseError {
                throw ValidationError("--proxy: \(e.description)")
            }
        }
        let items: [BenchItem]
        do { items = try BenchInput.items(from: inputs) } catch {
            printError("warren bench: \(error.description)")
            throw ExitCode(2)
        }
        let sumdbText = sumdb ?? goEnv.gosumdb
        let setting: SumDBSetting?
        do { setting = try SumDBSetting(sumdbText) } catch {
            printError("warren bench: --sumdb: \(error.description)")
            throw ExitCode(2)
        }
        let config = BenchConfiguration(
            proxies: urls, items: items, concurrency: concurrency, repetitions: repetitions, timeout: timeout,
            sumdb: setting == .off ? nil : setting, noSumDB: ModulePathPatterns(goEnv.gonosumdb), environment: environment)
        let showProgress = progress ?? (isatty(2) == 1)
        let bar = ProgressBar(enabled: showProgress)
        let result = try await BenchRunner(config).run { done, total in bar.update(done, total) }
        bar.finish()

        let style = output == nil ? TerminalStyle.detect(fd: 1, environment: environment) : TerminalStyle(color: false)
        let report: String
        switch format {
        case .text: report = BenchRenderers.text(result, style: style)
        case .markdown: report = BenchRenderers.markdown(result)
        case .html: report = BenchRenderers.html(result)
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            report = String(decoding: try encoder.encode(result), as: UTF8.self) + "\n"
        }
        if let output {
            try Data(report.utf8).write(to: URL(fileURLWithPath: output))
            printError("warren bench: report written to \(output)")
            if format != .text { printError(BenchRenderers.text(result, style: TerminalStyle(color: false))) }
        } else {
            print(report, terminator: "")
        }
        let failed = result.stats.contains { !$0.failures.isEmpty }
        if !result.inconsistencies.isEmpty || failed { throw ExitCode(1) }
    }
}

/// `[#####.....] 45/120` redrawn in place on standard error.
final class ProgressBar: @unchecked Sendable {
    private let enabled: Bool
    private let unit: String
    private let lock = NSLock()
    private var last = -1

    init(enabled: Bool, unit: String = "requests") {
        self.enabled = enabled
        self.unit = unit
    }

    func update(_ done: Int, _ total: Int) {
        guard enabled, total > 0 else { return }
        lock.lock()
        defer { lock.unlock() }
        let width = 30
        let filled = done * width / total
        guard filled != last || done == total else { return }
        last = filled
        FileHandleWriter.writeToStandardError("\r[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] \(done)/\(total) \(unit)")
    }

    func finish() {
        if enabled { FileHandleWriter.writeToStandardError("\n") }
    }
}
