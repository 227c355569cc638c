import Foundation
import Testing
@testable import WarrenCore
#if canImport(Glibc)
import Glibc
#endif

/// The posix_spawn runner direct mode starts git with: what the child gets (arguments,
/// environment, directory, descriptors, signals) and what the parent gets back.
@Suite struct ChildProcessTests {
    func sh(_ script: String, environment: [String: String] = ["PATH": "/usr/bin:/bin"], directory: String? = nil,
            stdin: ChildProcess.Stream = .null) throws -> ChildProcess {
        try ChildProcess.start("/bin/sh", ["-c", script], environment: environment, directory: directory, stdin: stdin)
    }

    @Test func outputErrorAndExitStatus() throws {
        let child = try sh("printf hello; printf oops >&2; exit 3")
        let (out, err, tooLarge) = child.collect(limit: 1 << 20)
        #expect(String(decoding: out, as: UTF8.self) == "hello")
        #expect(String(decoding: err, as: UTF8.self) == "oops")
        #expect(!tooLarge)
        #expect(child.wait() == 3)
        #expect(child.wait() == 3, "the status is kept once reaped")
    }

    @Test func onlyTheGivenEnvironmentAndDirectory() throws {
        let dir = FileManager.default.temporaryDirectory.path
        let child = try sh("env; pwd", environment: ["PATH": "/usr/bin:/bin", "ONLY_THIS": "yes"], directory: dir)
        let lines = Set(String(decoding: child.collect(limit: 1 << 20).output, as: UTF8.self).split(separator: "\n").map(String.init))
        #expect(child.wait() == 0)
        #expect(lines.contains("ONLY_THIS=yes"))
        #expect(!lines.contains { $0.hasPrefix("HOME=") }, "\(lines)")
        #expect(lines.contains(URL(fileURLWithPath: dir).resolvingSymlinksInPath().path) || lines.contains(dir), "\(lines)")
    }

    @Test func aMissingDirectoryOrProgramFailsToStart() {
        #expect(throws: ChildProcess.Failure.self) { try sh("true", directory: "/nonexistent/warren-test") }
        #expect(throws: ChildProcess.Failure.self) {
            try ChildProcess.start("/nonexistent/warren-test-program", [], environment: [:])
        }
    }

    @Test func outputPastTheLimitEndsTheChild() throws {
        let child = try sh("while :; do echo yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy; done")
        let (out, _, tooLarge) = child.collect(limit: 4096)
        #expect(tooLarge)
        #expect(out.count <= 4096)
        #expect(child.wait() == 128 + SIGTERM)
    }

    @Test func theChildGetsNoOtherDescriptors() throws {
        // A descriptor the parent opened without close-on-exec must not reach the child.
        // (Moved high, clear of the descriptor `ls` itself opens.)
        let opened = open("/dev/null", O_RDONLY)
        let leaky = fcntl(opened, F_DUPFD, 200)
        close(opened)
        #expect(leaky >= 200)
        defer { close(leaky) }
        let child = try sh("ls /proc/self/fd")
        let fds = String(decoding: child.collect(limit: 1 << 20).output, as: UTF8.self).split(separator: "\n").compactMap { Int32($0) }
        #expect(child.wait() == 0)
        #expect(fds.contains(0) && fds.contains(1) && fds.contains(2))
        #expect(!fds.contains(leaky), "fds in the child: \(fds)")
    }

    @Test func signalsAreNeitherBlockedNorIgnoredInTheChild() throws {
        // The parent ignores SIGPIPE (as every NIO server does) and blocks SIGUSR1 on
        // this thread: neither may be inherited through exec.
        signal(SIGPIPE, SIG_IGN)
        var block = sigset_t(), old = sigset_t()
        sigemptyset(&block)
        sigaddset(&block, SIGUSR1)
        pthread_sigmask(SIG_BLOCK, &block, &old)
        defer { pthread_sigmask(SIG_SETMASK, &old, nil) }
        let child = try sh("grep -E '^(SigBlk|SigIgn):' /proc/self/status")
        let text = String(decoding: child.collect(limit: 1 << 20).output, as: UTF8.self)
        #expect(child.wait() == 0)
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

    @Test func standardInputIsAPipeWhenAskedFor() throws {
        let child = try sh("cat", stdin: .pipe)
        try Array("through the pipe\n".utf8).withUnsafeBytes { try child.write($0) }
        child.closeInput()
        #expect(String(decoding: child.collect(limit: 1 << 20).output, as: UTF8.self) == "through the pipe\n")
        #expect(child.wait() == 0)
    }

    @Test func aDroppedChildIsKilledAndReaped() throws {
        var pid: pid_t = 0
        do {
            let child = try sh("sleep 30")
            pid = child.pid
        }
        // Reaped: no such process any more (not even a zombie).
        #expect(kill(pid, 0) == -1 && errno == ESRCH)
    }
}
