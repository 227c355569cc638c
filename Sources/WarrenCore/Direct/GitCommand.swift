import Foundation
import NIOPosix
import Synchronization

/// Runs the `git` binary for direct mode, as the go command does: git does the
/// transport (so the user's git configuration, `url.<base>.insteadOf` rewrites and
/// credential helpers all apply), Warren does everything else.
///
/// git never prompts (no terminal, `GIT_TERMINAL_PROMPT=0`), its messages are in the C
/// locale, and blocking waits run on a thread pool of their own (`blockingPool`), never
/// on the concurrency runtime's threads.
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

    /// Threads that wait on git: a clone or a zip being read from cat-file holds one
    /// while git (or the network) works, so there are many more of them than cores. On
    /// NIO's shared pool (one thread per core) eight concurrent misses queued behind two
    /// clones, and so did every file read the server makes on that pool.
    static let blockingPool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 32)
        pool.start()
        return pool
    }()

    init(executable: String = GitCommand.findGit(), environment: [String: String] = ProcessInfo.processInfo.environment,
         threadPool: NIOThreadPool = GitCommand.blockingPool) {
        self.executable = executable
        var env = environment
        env["GIT_TERMINAL_PROMPT"] = "0"
        env["GCM_INTERACTIVE"] = "never"
        env["LC_ALL"] = "C"
        env["GIT_SSH_COMMAND"] = env["GIT_SSH_COMMAND"] ?? "ssh -o ControlMaster=no -o BatchMode=yes"
        self.environment = env
        self.threadPool = threadPool
    }

    /// Whether this git's `cat-file` has `--batch-command` (git 2.36 and later), asked
    /// of `git version` once per executable.
    static func hasBatchCommand(_ git: GitCommand) -> Bool {
        if let known = batchCommandSupport.withLock({ $0[git.executable] }) { return known }
        var supported = false
        if let child = try? ChildProcess.start(git.executable, ["version"], environment: git.environment) {
            let out = String(decoding: child.collect(limit: 4096).output, as: UTF8.self)
            if child.wait() == 0 { supported = versionAtLeast(out, 2, 36) }
        }
        batchCommandSupport.withLock { $0[git.executable] = supported }
        return supported
    }

    private static let batchCommandSupport = Mutex<[String: Bool]>([:])

    /// "git version 2.39.5" (or "git version 2.39.5.windows.1") against major.minor.
    static func versionAtLeast(_ versionLine: String, _ major: Int, _ minor: Int) -> Bool {
        guard let number = versionLine.split(separator: " ").first(where: { $0.first?.isNumber == true }) else { return false }
        let parts = number.split(separator: ".").prefix(2).map { Int($0) ?? 0 }
        guard parts.count == 2 else { return false }
        return parts[0] > major || (parts[0] == major && parts[1] >= minor)
    }

    static func findGit() -> String {
        for dir in ["/usr/bin", "/usr/local/bin", "/bin"] where FileManager.default.isExecutableFile(atPath: dir + "/git") {
            return dir + "/git"
        }
        return "/usr/bin/git"
    }

    /// Runs `git ARGS` (in `directory` when given) and returns its standard output.
    /// Output beyond `limit` bytes fails.
    func run(_ arguments: [String], in directory: String? = nil, limit: Int = 64 << 20) async throws(Failure) -> [UInt8] {
        let executable = self.executable, environment = self.environment
        let result: Result<[UInt8], Failure>
        do {
            result = try await threadPool.runIfActive {
                Self.runBlocking(executable, arguments, directory, environment, limit)
            }
        } catch {
            throw Failure(arguments: arguments, status: -1, stderr: "cannot run git: \(error)")
        }
        return try result.get()
    }

    private static func runBlocking(_ executable: String, _ arguments: [String], _ directory: String?,
                                    _ environment: [String: String], _ limit: Int) -> Result<[UInt8], Failure> {
        let child: ChildProcess
        do {
            child = try ChildProcess.start(executable, arguments, environment: environment, directory: directory)
        } catch {
            return .failure(Failure(arguments: arguments, status: -1, stderr: "cannot run git: \(error.description)"))
        }
        let (out, errorText, tooLarge) = child.collect(limit: limit)
        let status = child.wait()
        if tooLarge {
            return .failure(Failure(arguments: arguments, status: -1, stderr: "fatal: output larger than \(limit) bytes"))
        }
        guard status == 0 else {
            return .failure(Failure(arguments: arguments, status: status, stderr: String(decoding: errorText, as: UTF8.self)))
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
