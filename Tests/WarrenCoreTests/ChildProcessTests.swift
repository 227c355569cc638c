import Foundation
import Testing
@testable import WarrenCore
#if canImport(Glibc)
import Glibc
#endif

/// The posix_spawn runner direct mode starts git with: what the child gets (arguments,
/// environment, directory, descriptors, signals) and what the parent gets back.
@Suite struct ChildProcessTests {
    /// What a finished child gave back.
    struct Ran: Sendable {
        var output: String
        var errorOutput: String
        var tooLarge: Bool
        var status: Int32
    }

    /// Starts `/bin/sh -c script` and collects it, on a thread of its own.
    func run(_ script: String, environment: [String: String] = ["PATH": "/usr/bin:/bin"], directory: String? = nil,
             limit: Int = 1 << 20) async throws -> Ran {
        try await offThread {
            let child = try ChildProcess.start("/bin/sh", ["-c", script], environment: environment, directory: directory)
            let (out, err, tooLarge) = child.collect(limit: limit)
            return Ran(output: String(decoding: out, as: UTF8.self), errorOutput: String(decoding: err, as: UTF8.self),
                       tooLarge: tooLarge, status: child.wait())
        }
    }

    @Test func outputErrorAndExitStatus() async throws {
        let ran = try await run("printf hello; printf oops >&2; exit 3")
        #expect(ran.output == "hello")
        #expect(ran.errorOutput == "oops")
        #expect(!ran.tooLarge)
        #expect(ran.status == 3)
    }

    @Test func onlyTheGivenEnvironmentAndDirectory() async throws {
        let dir = FileManager.default.temporaryDirectory.path
        let ran = try await run("env; pwd", environment: ["PATH": "/usr/bin:/bin", "ONLY_THIS": "yes"], directory: dir)
        let lines = Set(ran.output.split(separator: "\n").map(String.init))
        #expect(ran.status == 0)
        #expect(lines.contains("ONLY_THIS=yes"))
        #expect(!lines.contains { $0.hasPrefix("HOME=") }, "\(lines)")
        #expect(lines.contains(URL(fileURLWithPath: dir).resolvingSymlinksInPath().path) || lines.contains(dir), "\(lines)")
    }

    @Test func aMissingDirectoryOrProgramFailsToStart() async throws {
        let failures = try await offThread { () -> [Bool] in
            let badDirectory = (try? ChildProcess.start("/bin/sh", ["-c", "true"], environment: [:], directory: "/nonexistent/warren-test")) == nil
            let badProgram = (try? ChildProcess.start("/nonexistent/warren-test-program", [], environment: [:])) == nil
            return [badDirectory, badProgram]
        }
        #expect(failures == [true, true])
    }

    @Test func outputPastTheLimitEndsTheChild() async throws {
        let ran = try await run("while :; do echo yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy; done", limit: 4096)
        #expect(ran.tooLarge)
        #expect(ran.output.utf8.count <= 4096)
        #expect(ran.status == 128 + SIGTERM)
    }

    @Test func theChildGetsNoOtherDescriptors() async throws {
        // A descriptor the parent opened without close-on-exec must not reach the child.
        // (Moved high, clear of the descriptor `ls` itself opens.)
        let opened = open("/dev/null", O_RDONLY)
        let leaky = fcntl(opened, F_DUPFD, 200)
        close(opened)
        #expect(leaky >= 200)
        defer { close(leaky) }
        let ran = try await run("ls /proc/self/fd")
        let fds = ran.output.split(separator: "\n").compactMap { Int32($0) }
        #expect(ran.status == 0)
        #expect(fds.contains(0) && fds.contains(1) && fds.contains(2))
        #expect(!fds.contains(leaky), "fds in the child: \(fds)")
    }

    @Test func signalsAreNeitherBlockedNorIgnoredInTheChild() async throws {
        // The parent ignores SIGPIPE (as every NIO server does) and blocks SIGUSR1 on the
        // starting thread: neither may be inherited through exec.
        let text = try await offThread { () -> String in
            signal(SIGPIPE, SIG_IGN)
            var block = sigset_t(), old = sigset_t()
            sigemptyset(&block)
            sigaddset(&block, SIGUSR1)
            pthread_sigmask(SIG_BLOCK, &block, &old)
            defer { pthread_sigmask(SIG_SETMASK, &old, nil) }
            let child = try ChildProcess.start("/bin/sh", ["-c", "grep -E '^(SigBlk|SigIgn):' /proc/self/status"], environment: ["PATH": "/usr/bin:/bin"])
            let out = String(decoding: child.collect(limit: 1 << 20).output, as: UTF8.self)
            return child.wait() == 0 ? out : "failed: " + out
        }
        // Bit n-1 stands for signal n; 32 and up are glibc's own real-time signals,
        // which posix_spawn leaves as they are.
        func standardSignals(_ field: String) -> UInt64? {
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }),
                  let mask = UInt64(line.split(separator: "\t").last ?? "", radix: 16) else { return nil }
            return mask & 0x7fff_ffff
        }
        #expect(standardSignals("SigBlk") == 0, "\(text)")
        #expect(standardSignals("SigIgn") == 0, "\(text)")
    }

    @Test func standardInputIsAPipeWhenAskedFor() async throws {
        let ran = try await offThread { () -> Ran in
            let child = try ChildProcess.start("/bin/sh", ["-c", "cat"], environment: ["PATH": "/usr/bin:/bin"], stdin: .pipe)
            try Array("through the pipe\n".utf8).withUnsafeBytes { try child.write($0) }
            child.closeInput()
            let out = child.collect(limit: 1 << 20)
            return Ran(output: String(decoding: out.output, as: UTF8.self), errorOutput: "", tooLarge: out.tooLarge, status: child.wait())
        }
        #expect(ran.output == "through the pipe\n")
        #expect(ran.status == 0)
    }

    @Test func aDroppedChildIsKilledAndReaped() async throws {
        let gone = try await offThread { () -> Bool in
            var pid: pid_t = 0
            do {
                let child = try ChildProcess.start("/bin/sh", ["-c", "sleep 30"], environment: ["PATH": "/usr/bin:/bin"])
                pid = child.pid
            }
            // Reaped: no such process any more (not even a zombie).
            return kill(pid, 0) == -1 && errno == ESRCH
        }
        #expect(gone)
    }
}
