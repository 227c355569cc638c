import ArgumentParser
import Foundation
import GoModule
import WarrenClientTools
import WarrenCore

/// `warren doctor`: why the go command's downloads fail on this machine, with fixes.
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Diagnose the Go environment: GOPROXY, GOPRIVATE, GOSUMDB and the proxies themselves.",
        subcommands: [DoctorCheckCommand.self, DoctorRouteCommand.self, DoctorProbeCommand.self],
        defaultSubcommand: DoctorCheckCommand.self
    )
}

/// Options every doctor subcommand shares.
struct DoctorOptions: ParsableArguments {
    @Flag(help: "Print JSON for scripts instead of the report for people.")
    var json = false

    @Option(help: "The go command to ask for `go env -json` (default: the first `go` on PATH).")
    var go: String?

    @Flag(help: "Do not run the go command; read the environment and the go env file only.")
    var noGo = false

    var environment: [String: String] { ProcessInfo.processInfo.environment }

    func goEnvironment() -> GoEnvironment {
        let goCommand = noGo ? nil : (go ?? GoEnvironmentReader.findGo(environment: environment))
        return GoEnvironmentReader.read(environment: environment, goCommand: goCommand)
    }

    func client(timeout: Double) -> TimedHTTPClient {
        let netrc = NetrcFile.defaultPath(environment: environment).map(NetrcFile.read) ?? []
        return TimedHTTPClient(roots: TrustRoots(environment: environment), timeout: timeout, credentials: netrc,
                               userAgent: "warren-doctor/\(WarrenVersion.current)")
    }

    var style: TerminalStyle { TerminalStyle.detect(fd: 1, environment: environment) }

    func emit<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}

struct DoctorCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Report the effective settings and every misconfiguration found, with its fix (the default).",
        discussion: "Exit status 0: no problems; 1: problems found (notes alone do not count)."
    )

    @OptionGroup var options: DoctorOptions

    @Flag(help: "Do not contact the proxies (by default each gets one quick request).")
    var offline = false

    @Option(help: "The module whose version list the quick request asks for.")
    var module = "golang.org/x/text"

    @Option(help: "Seconds to wait for each proxy.")
    var timeout: Double = 5

    func run() async throws {
        let env = options.goEnvironment()
        var observations: [ProxyObservation] = []
        if !offline {
            let module = self.module
            let client = options.client(timeout: timeout)
            let urls = ProxyChain(env.goproxy).httpProxies.compactMap(\.url)
            observations = await withTaskGroup(of: (Int, ProxyObservation).self) { group in
                for (i, url) in urls.enumerated() {
                    group.addTask { (i, await ProxyObservation.observe(proxyURL: url, module: module, client: client)) }
                }
                var out: [(Int, ProxyObservation)] = []
                for await r in group { out.append(r) }
                return out.sorted { $0.0 < $1.0 }.map(\.1)
            }
        }
        let report = DoctorReport.build(env, observations: observations)
        if options.json {
            try options.emit(report)
        } else {
            print(DoctorTextRenderer.render(report, style: options.style), terminator: "")
        }
        if report.problemCount > 0 { throw ExitCode(1) }
    }
}

struct DoctorRouteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "route",
        abstract: "Explain, step by step, where the go command sends a module and whether it is verified."
    )

    @OptionGroup var options: DoctorOptions

    @Argument(help: "module or module@version")
    var target: String

    func run() async throws {
        var module = target, version: String?
        if let at = target.lastIndex(of: "@") {
            module = String(target[..<at])
            version = String(target[target.index(after: at)...])
        }
        let route: RouteExplanation
        do {
            route = try RouteExplanation.explain(module: module, version: version, env: options.goEnvironment())
        } catch {
            printError("warren doctor route: \(error.description)")
            throw ExitCode(2)
        }
        if options.json {
            try options.emit(route)
        } else {
            print(DoctorTextRenderer.render(route, style: options.style), terminator: "")
        }
    }
}

struct DoctorProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Time DNS, connect, TLS and first byte for every proxy and the checksum database, then check their protocol answers.",
        discussion: "Exit status 0: every endpoint answered as the go command needs; 1: problems found."
    )

    @OptionGroup var options: DoctorOptions

    @Option(help: "The module to ask each proxy about (list, @latest, .info, .mod).")
    var module = "golang.org/x/text"

    @Option(help: "Seconds to wait for each request.")
    var timeout: Double = 10

    @Option(name: .customLong("proxy"), help: "Probe this proxy URL instead of GOPROXY's (repeatable).")
    var proxies: [String] = []

    func run() async throws {
        let env = options.goEnvironment()
        let client = options.client(timeout: timeout)
        let urls = proxies.isEmpty ? ProxyChain(env.goproxy).httpProxies.compactMap(\.url) : proxies
        let sumdb = try? SumDBSetting(env.gosumdb)
        let sumdbName: String? = if case .database(let key, _) = sumdb { key.name } else { nil }
        let module = self.module, onlyGiven = !proxies.isEmpty
        let probes = await withTaskGroup(of: (Int, EndpointProbe?).self) { group in
            for (i, url) in urls.enumerated() {
                group.addTask { (i, await EndpointProbe.proxy(url, module: module, sumdbName: sumdbName, client: client)) }
            }
            if let sumdb, !onlyGiven {
                group.addTask { (urls.count, await EndpointProbe.checksumDatabase(sumdb, client: client)) }
            }
            var out: [(Int, EndpointProbe?)] = []
            for await r in group { out.append(r) }
            return out.sorted { $0.0 < $1.0 }.compactMap(\.1)
        }
        if options.json {
            try options.emit(probes)
        } else {
            print(DoctorTextRenderer.render(probes: probes, style: options.style), terminator: "")
        }
        if probes.contains(where: { $0.problems.contains { $0.severity >= .warning } }) { throw ExitCode(1) }
    }
}
