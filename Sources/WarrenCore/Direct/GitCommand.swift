import Foundation
import NIOPosix

/// Runs the `git` binary for direct mode, as the go command does: git does the
/// transport (so the user's git configuration, `url.<base>.insteadOf` rewrites and
/// credential helpers all apply), Warren does everything else.
///
/// git never prompts (no terminal, `GIT_TERMINAL_PROMPT=0`), its messages are in the C
/// locale, and blocking waits run on NIO's thread pool, never on the concurrency
/// runtime's threads.
struct GitCommand: Sendable {
    let executable: String
    let environment: [String: String]
    let threadPool: NIOThreadPool

    struct Failure: Error, CustomStringConvertible {
        let arguments: [String]
        let status: Int32
        let stderr: String

        /// git's first complaint, with credentials and quoted names (local paths after
        /// `insteadOf` rewrites) removed: safe to show a client.
        var summary: String {
            let lines = stderr.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            let line = lines.first(where: { $0.hasPrefix("fatal:") || $0.hasPrefix("error:") }) ?? lines.last ?? "git exited with status \(status)"
            return GitCommand.redact(GitCommand.unquote(line))
        }

        var description: String { "git \(arguments.first ?? ""): \(summary)" }
    }

    init(executable: String = GitCommand.findGit(), environment: [String: String] = ProcessInfo.processInfo.environment,
         threadPool: NIOThreadPool = .singleton) {
        self.executable = executable
        var env = environment
        env["GIT_TERMINAL_PROMPT"] = "0"
        env["GCM_INTERACTIVE"] = "never"
        env["LC_ALL"] = "C"
        env["GIT_SSH_COMMAND"] = env["GIT_SSH_COMMAND"] ?? "ssh -o ControlMaster=no -o BatchMode=yes"
        self.environment = env
        self.threadPool = threadPool
    }

    static func findGit() -> String {
        for dir in ["/usr/bin", "/usr/local/bin", "/bin"] where FileManager.default.isExecutableFile(atPath: dir + "/git") {
            return dir + "/git"
        }
        return "/usr/bin/git"
    }

    /// Runs `git ARGS` (in `directory` when given) and returns its standard output.
    /// `input` is written to its standard input. Output beyond `limit` bytes fails.
    func run(_ arguments: [String], in directory: String? = nil, input: [UInt8]? = nil,
             limit: Int = 64 << 20) async throws(Failure) -> [UInt8] {
        let executable = self.executable, environment = self.environment
        let result: Result<[UInt8], Failure>
        do {
            result = try await threadPool.runIfActive {
                Self.runBlocking(executable, arguments, directory, environment, input, limit)
            }
        } catch {
            throw Failure(arguments: arguments, status: -1, stderr: "cannot run git: \(error)")
        }
        return try result.get()
    }

    private static func runBlocking(_ executable: String, _ arguments: [String], _ directory: String?,
                                    _ environment: [String: String], _ input: [UInt8]?, _ limit: Int) -> Result<[UInt8], Failure> {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let stdout = Pipe(), stderr = Pipe(), stdin = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = input == nil ? FileHandle.nullDevice : stdin
        do {
            try process.run()
        } catch {
            return .failure(Failure(arguments: arguments, status: -1, stderr: "cannot run git: \(error.localizedDescription)"))
        }
        // Standard input and error are served from other threads so that no pipe fills up
        // while this one reads standard output.
        let group = DispatchGroup()
        if let input {
            group.enter()
            DispatchQueue.global().async {
                try? stdin.fileHandleForWriting.write(contentsOf: Data(input))
                try? stdin.fileHandleForWriting.close()
                group.leave()
            }
        }
        let errorText = LockedData()
        group.enter()
        DispatchQueue.global().async {
            errorText.set(stderr.fileHandleForReading.readDataToEndOfFile())
            group.leave()
        }
        var out: [UInt8] = []
        var tooLarge = false
        while true {
            let chunk = stdout.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            if out.count + chunk.count > limit {
                tooLarge = true
                process.terminate()
                break
            }
            out.append(contentsOf: chunk)
        }
        if tooLarge { _ = stdout.fileHandleForReading.readDataToEndOfFile() }
        process.waitUntilExit()
        group.wait()
        if tooLarge {
            return .failure(Failure(arguments: arguments, status: -1, stderr: "fatal: output larger than \(limit) bytes"))
        }
        guard process.terminationStatus == 0 else {
            return .failure(Failure(arguments: arguments, status: process.terminationStatus,
                                    stderr: String(decoding: errorText.get(), as: UTF8.self)))
        }
        return .success(out)
    }

    /// Replaces 'quoted' names with "the repository".
    static func unquote(_ line: String) -> String {
        var out = "", inQuote = false
        for c in line {
            if c == "'" {
                if !inQuote { out += "the repository" }
                inQuote.toggle()
            } else if !inQuote {
                out.append(c)
            }
        }
        return out
    }

    /// Removes `user:password@` from URLs and anything after common secret markers.
    static func redact(_ text: String) -> String {
        var out = ""
        var rest = Substring(text)
        while let scheme = rest.range(of: "://") {
            out += rest[..<scheme.upperBound]
            rest = rest[scheme.upperBound...]
            let authority = rest.prefix { $0 != "/" && $0 != " " && $0 != "'" && $0 != "\"" }
            if let at = authority.lastIndex(of: "@") {
                out += "***@"
                rest = rest[rest.index(after: at)...]
            }
        }
        return out + rest
    }
}

/// Bytes handed from one thread to another.
private final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func set(_ d: Data) { lock.lock(); data = d; lock.unlock() }
    func get() -> Data { lock.lock(); defer { lock.unlock() }; return data }
}
