import Foundation

/// Works out the effective Go environment the way the go command does (cmd/go's cfg
/// package): a variable set non-empty in the process environment wins, then the GOENV
/// file written by `go env -w`, then the built-in default. When a `go` binary is on
/// PATH, `go env -json` is asked too, and its answer is the one reported.
public enum GoEnvironmentReader {
    static let defaults = ["GOPROXY": "https://proxy.golang.org,direct", "GOSUMDB": "sum.golang.org"]

    /// Reads the environment without running anything.
    public static func read(environment: [String: String]) -> GoEnvironment {
        let filePath = envFilePath(environment: environment)
        let file = filePath.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) }.map(parseEnvFile) ?? [:]
        var settings: [String: GoEnvironment.Setting] = [:]
        for key in GoEnvironment.moduleVariables {
            let env = environment[key]
            let fromFile = file[key]
            var setting = GoEnvironment.Setting(value: "", source: .defaultValue, environmentValue: env, fileValue: fromFile)
            if let env, !env.isEmpty {
                setting.value = env
                setting.source = .environment
            } else if let fromFile, !fromFile.isEmpty {
                setting.value = fromFile
                setting.source = .envFile
            } else if let d = defaults[key] {
                setting.value = d
            }
            settings[key] = setting
        }
        for derived in ["GONOPROXY", "GONOSUMDB"] where settings[derived]?.value.isEmpty == true {
            let privateValue = settings["GOPRIVATE"]?.value ?? ""
            if !privateValue.isEmpty {
                settings[derived]?.value = privateValue
                settings[derived]?.source = .derived
            }
        }
        if settings["GOMODCACHE"]?.value.isEmpty == true {
            let gopath = environment["GOPATH"].flatMap { $0.isEmpty ? nil : $0.split(separator: ":").first.map(String.init) }
                ?? environment["HOME"].map { $0 + "/go" }
            if let gopath { settings["GOMODCACHE"]?.value = gopath + "/pkg/mod" }
        }
        return GoEnvironment(settings: settings, envFilePath: filePath, processEnvironment: environment)
    }

    /// Reads the environment and, when `go` is available, lets `go env -json` correct it.
    public static func read(environment: [String: String], goCommand: String?) -> GoEnvironment {
        var result = read(environment: environment)
        guard let go = goCommand else { return result }
        result.goCommand = go
        switch runGoEnv(go, environment: environment) {
        case .success(let values):
            result.goEnvOutput = values
            for key in GoEnvironment.moduleVariables {
                if let v = values[key], v != result.settings[key]?.value {
                    result.settings[key]?.value = v
                }
            }
            if let file = values["GOENV"] {
                result.envFilePath = file.isEmpty ? nil : file
            }
        case .failure(let error):
            result.goEnvError = error.description
        }
        return result
    }

    /// The GOENV file: `$GOENV` (`off` for none), else the user config directory's `go/env`.
    public static func envFilePath(environment: [String: String]) -> String? {
        if let goenv = environment["GOENV"], !goenv.isEmpty {
            return goenv == "off" ? nil : goenv
        }
        if let xdg = environment["XDG_CONFIG_HOME"], xdg.hasPrefix("/") { return xdg + "/go/env" }
        guard let home = environment["HOME"], !home.isEmpty else { return nil }
        return home + "/.config/go/env"
    }

    /// `KEY=VALUE` lines; anything else (comments, junk) ignored, as the go command does.
    public static func parseEnvFile(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            guard let first = line.unicodeScalars.first, ("A"..."Z").contains(first),
                  let eq = line.firstIndex(of: "=") else { continue }
            out[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        return out
    }

    /// The first executable `go` on `PATH`.
    public static func findGo(environment: [String: String]) -> String? {
        let path = environment["PATH"] ?? ""
        for dir in path.split(separator: ":") where !dir.isEmpty {
            let candidate = String(dir) + "/go"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    public struct GoEnvFailure: Error, CustomStringConvertible {
        public let description: String
    }

    static func runGoEnv(_ go: String, environment: [String: String]) -> Result<[String: String], GoEnvFailure> {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: go)
        process.arguments = ["env", "-json"]
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        do { try process.run() } catch {
            return .failure(GoEnvFailure(description: "cannot run \(go): \(error)"))
        }
        let errData = ThreadedReader.readAll(err.fileHandleForReading)
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let stderr = String(decoding: errData.wait(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard process.terminationStatus == 0 else {
            let line = stderr.split(separator: "\n").first.map(String.init) ?? "exit status \(process.terminationStatus)"
            return .failure(GoEnvFailure(description: line))
        }
        guard let object = try? JSONSerialization.jsonObject(with: outData) as? [String: Any] else {
            return .failure(GoEnvFailure(description: "go env -json printed something that is not a JSON object"))
        }
        var values: [String: String] = [:]
        for (k, v) in object { if let s = v as? String { values[k] = s } }
        return .success(values)
    }
}

/// Drains a pipe on a thread of its own, so two pipes of one child never deadlock.
final class ThreadedReader: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var data = Data()

    static func readAll(_ handle: FileHandle) -> ThreadedReader {
        let reader = ThreadedReader()
        Thread {
            reader.data = handle.readDataToEndOfFile()
            reader.done.signal()
        }.start()
        return reader
    }

    func wait() -> Data {
        done.wait()
        return data
    }
}
