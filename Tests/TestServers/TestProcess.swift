import CProcessSpawn
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A child process for tests, started with posix_spawn (the engine's CProcessSpawn shim)
/// and reaped with a blocking `waitpid` on its own pid.
///
/// Not Foundation's `Process`: its exit detection rests on a SIGCHLD source that, in a
/// test process full of threads with other signal masks, was seen to miss exits, leaving
/// `waitUntilExit` blocked for ever beside a zombie child (a whole test run stalled).
/// Here nothing depends on signals: output is read by a thread per stream until EOF, and
/// `wait()` is `waitpid(pid)`.
public final class TestProcess: Sendable {
    public let pid: pid_t
    /// What the process wrote, as it arrives.
    public let stdout = CapturedOutput()
    public let stderr = CapturedOutput()
    private let status = Mutex<Int32?>(nil)

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Starts `executable` (an absolute path). `environment` nil: this process's.
    /// stdin is /dev/null; stdout and stderr are captured.
    public init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                directory: String? = nil) throws {
        var outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1]
        guard warren_pipe_cloexec(&outPipe) == 0 else { throw Failure(description: "pipe: errno \(errno)") }
        guard warren_pipe_cloexec(&errPipe) == 0 else {
            close(outPipe[0]); close(outPipe[1])
            throw Failure(description: "pipe: errno \(errno)")
        }
        let env = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        let error = Self.withCStrings([executable] + arguments) { argv in
            Self.withCStrings(env) { envp in
                warren_spawn(executable, argv, envp, directory, -1, outPipe[1], errPipe[1], &pid)
            }
        }
        close(outPipe[1])
        close(errPipe[1])
        guard error == 0 else {
            close(outPipe[0]); close(errPipe[0])
            throw Failure(description: "cannot start \(executable): \(String(cString: strerror(error)))")
        }
        self.pid = pid
        stdout.readInBackground(outPipe[0])
        stderr.readInBackground(errPipe[0])
    }

    /// Runs to the end: the exit status and everything written.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                           directory: String? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = try TestProcess(executable, arguments, environment: environment, directory: directory)
        let status = process.wait()
        return (status, process.stdout.text, process.stderr.text)
    }

    /// Waits for the exit and for both streams to end. The exit code, or 128 + the signal
    /// for a process killed by one.
    @discardableResult
    public func wait() -> Int32 {
        if let known = status.withLock({ $0 }) { return known }
        var raw: Int32 = 0
        var result: pid_t
        repeat { result = waitpid(pid, &raw, 0) } while result < 0 && errno == EINTR
        let code: Int32
        if result < 0 {
            // Reaped meanwhile by `isRunning`, which recorded the status.
            code = status.withLock { $0 } ?? -1
        } else if raw & 0x7F == 0 {
            code = (raw >> 8) & 0xFF
        } else {
            code = 128 + (raw & 0x7F)
        }
        // A grandchild that inherited a stream may hold it open past the exit: wait for
        // the ends a while, not for ever.
        stdout.waitForEnd(timeout: 10)
        stderr.waitForEnd(timeout: 10)
        return status.withLock { s in
            if s == nil { s = code }
            return s ?? code
        }
    }

    /// Whether it has not exited yet (a zombie counts as exited, and is reaped).
    public var isRunning: Bool {
        if status.withLock({ $0 }) != nil { return false }
        var raw: Int32 = 0
        let result = waitpid(pid, &raw, WNOHANG)
        if result == pid {
            let code: Int32 = raw & 0x7F == 0 ? (raw >> 8) & 0xFF : 128 + (raw & 0x7F)
            status.withLock { s in if s == nil { s = code } }
            return false
        }
        return result == 0
    }

    public func signal(_ sig: Int32) {
        if isRunning { kill(pid, sig) }
    }

    /// SIGTERM, then the exit status.
    @discardableResult
    public func terminate() -> Int32 {
        signal(SIGTERM)
        return wait()
    }

    /// SIGKILL (the crash case), then the exit status.
    @discardableResult
    public func kill9() -> Int32 {
        signal(SIGKILL)
        return wait()
    }

    deinit {
        if status.withLock({ $0 }) == nil {
            kill(pid, SIGKILL)
            var raw: Int32 = 0
            _ = waitpid(pid, &raw, 0)
        }
    }

    private static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
        let pointers = strings.map { strdup($0) } + [nil]
        defer { for p in pointers { free(p) } }
        return pointers.withUnsafeBufferPointer { buffer in
            // A buffer of a non-empty array always has a base address.
            body(buffer.baseAddress ?? UnsafePointer(bitPattern: 1).unsafelyUnwrapped)
        }
    }
}

/// One output stream of a child, read by a thread of its own until EOF.
public final class CapturedOutput: Sendable {
    private struct State {
        var data: [UInt8] = []
        var ended = false
    }
    private let state = Mutex(State())
    private let changed = NSCondition()

    public var bytes: [UInt8] { state.withLock { $0.data } }
    public var text: String { String(decoding: bytes, as: UTF8.self) }
    public var ended: Bool { state.withLock { $0.ended } }

    func readInBackground(_ fd: Int32) {
        Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                changed.lock()
                state.withLock { $0.data.append(contentsOf: buffer[..<n]) }
                changed.broadcast()
                changed.unlock()
            }
            close(fd)
            changed.lock()
            state.withLock { $0.ended = true }
            changed.broadcast()
            changed.unlock()
        }.start()
    }

    /// Blocks until `predicate` holds for the text so far, the stream ends, or `timeout`
    /// passes; returns the text it saw last.
    @discardableResult
    public func waitFor(timeout: Double, _ predicate: (String) -> Bool) -> String {
        let deadline = Date().addingTimeInterval(timeout)
        changed.lock()
        defer { changed.unlock() }
        while true {
            let (text, ended) = state.withLock { (String(decoding: $0.data, as: UTF8.self), $0.ended) }
            if predicate(text) || ended { return text }
            if !changed.wait(until: deadline) { return state.withLock { String(decoding: $0.data, as: UTF8.self) } }
        }
    }

    func waitForEnd(timeout: Double) {
        let deadline = Date().addingTimeInterval(timeout)
        changed.lock()
        defer { changed.unlock() }
        while !state.withLock({ $0.ended }) {
            if !changed.wait(until: deadline) { return }
        }
    }
}
