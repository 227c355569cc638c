import Foundation
import GoModule
#if canImport(Glibc)
import Glibc
#endif

/// One `git cat-file --batch` process that hands out blobs one after another as
/// readers, so a module zip is built from a single git process without holding the
/// module's files in memory: each blob is read from the pipe while it is compressed.
///
/// Readers are opened from the zip writer's worker threads. Only one blob can be in
/// flight on the pipe, so opening a reader takes a lock that the reader gives back once
/// the blob has been read to its end (or the reader is dropped, which spoils the stream).
/// The same process also answers small whole-object reads (`object(_:limit:)`: go.mod
/// files, commits), so a mirror can keep one open instead of starting git per file.
/// Everything here blocks: use it on a thread pool, never on the concurrency runtime.
final class GitBlobStream: @unchecked Sendable {
    private let process: ChildProcess
    private let turn = NSCondition()
    private var busy = false
    private var broken: String?
    /// Bytes read from the pipe but not yet consumed (headers are parsed from here).
    private var pending: [UInt8] = []
    private var pendingStart = 0
    private var pendingEnd = 0
    private var closed = false

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    init(git: GitCommand, repository: String) throws(Failure) {
        do {
            process = try ChildProcess.start(git.executable, ["cat-file", "--batch"], environment: git.environment,
                                             directory: repository, stdin: .pipe, stdout: .pipe, stderr: .null)
        } catch {
            throw Failure(description: "cannot run git cat-file: \(error.description)")
        }
    }

    /// Ends the git process (closing its input makes it exit).
    func close() {
        turn.lock()
        defer { turn.unlock() }
        guard !closed else { return }
        closed = true
        process.closeInput()
        process.terminate()
        process.wait()
    }

    deinit { close() }

    struct TooLarge: Error {}

    /// A whole object by any name git accepts (`<commit>:<path>`, `<hash>^{commit}`):
    /// its type and bytes, or nil when it does not exist. Larger than `limit` throws.
    func object(_ name: String, limit: Int) throws -> (type: String, bytes: [UInt8])? {
        guard !name.contains("\n") else { return nil }
        // "<object> <type> <size>", or "<name> missing" / "<name> ambiguous".
        let fields = try ask(name)
        do {
            guard fields.count == 3, let size = Int(fields[2]) else {
                release()
                return nil
            }
            // Too large: read past it in small steps (never all of it in memory).
            var bytes = [UInt8](repeating: 0, count: size <= limit ? size : Swift.min(size, 65536))
            var left = size
            try bytes.withUnsafeMutableBytes { buf in
                var at = 0
                while left > 0 {
                    let n = try readBody(into: UnsafeMutableRawBufferPointer(rebasing: buf[at...]), max: left)
                    left -= n
                    at = size <= limit ? at + n : 0
                }
            }
            try finish()
            guard size <= limit else { throw TooLarge() }
            return (String(fields[1]), bytes)
        } catch let e as TooLarge {
            throw e
        } catch {
            spoil("git cat-file: \(error)")
            throw error
        }
    }

    /// A reader for `object`, which must be a blob of `size` bytes. Blocks until the
    /// previous reader has finished.
    func open(_ object: String, size: Int64) throws -> any SequentialByteReader {
        // "<object> blob <size>"
        let fields = try ask(object)
        do {
            guard fields.count == 3, fields[0] == object, fields[1] == "blob", Int64(fields[2]) == size else {
                throw Failure(description: "git cat-file: unexpected answer for \(object): \(fields.joined(separator: " ").prefix(80))")
            }
            return BlobReader(stream: self, remaining: size)
        } catch {
            spoil("git cat-file: \(error)")
            throw error
        }
    }

    /// Waits for the pipe, asks for `name` and returns the answer's header fields. The
    /// caller then owns the pipe until it reads the object and calls `finish` (or fails).
    private func ask(_ name: String) throws -> [Substring] {
        turn.lock()
        while busy { turn.wait() }
        busy = true
        turn.unlock()
        do {
            if let broken { throw Failure(description: broken) }
            try Array((name + "\n").utf8).withUnsafeBytes { try process.write($0) }
            return try readLine().split(separator: " ")
        } catch {
            spoil("git cat-file: \(error)")
            throw error
        }
    }

    fileprivate func readBody(into buffer: UnsafeMutableRawBufferPointer, max: Int) throws -> Int {
        let want = Swift.min(max, buffer.count)
        guard want > 0 else { return 0 }
        if pendingStart == pendingEnd { try fill() }
        let n = Swift.min(want, pendingEnd - pendingStart)
        pending.withUnsafeBytes { src in
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[pendingStart..<(pendingStart + n)]))
        }
        pendingStart += n
        return n
    }

    /// Reads what the pipe has (up to 64 KiB) into `pending`, which must be used up.
    private func fill() throws {
        if pending.count != 65536 { pending = [UInt8](repeating: 0, count: 65536) }
        let n = try pending.withUnsafeMutableBytes { try process.read(into: $0) }
        guard n > 0 else {
            pendingStart = 0
            pendingEnd = 0
            throw Failure(description: "git cat-file ended early")
        }
        // Only the first n bytes are valid: keep the buffer, mark the end.
        pendingEnd = n
        pendingStart = 0
    }

    /// Called by a reader that has read its blob: eats the newline after it and lets
    /// the next reader in.
    fileprivate func finish() throws {
        defer { release() }
        if pendingStart == pendingEnd { try fill() }
        guard pending[pendingStart] == 0x0A else {
            broken = "git cat-file: stream out of step"
            throw Failure(description: "git cat-file: stream out of step")
        }
        pendingStart += 1
    }

    /// A reader dropped before its end leaves the pipe mid-blob: nothing after it can be
    /// read, so the stream refuses further blobs.
    fileprivate func spoil(_ reason: String) {
        broken = broken ?? reason
        release()
    }

    private func release() {
        turn.lock()
        busy = false
        turn.signal()
        turn.unlock()
    }

    private func readLine() throws -> String {
        var line: [UInt8] = []
        while true {
            if pendingStart == pendingEnd { try fill() }
            if let lf = pending[pendingStart..<pendingEnd].firstIndex(of: 0x0A) {
                line += pending[pendingStart..<lf]
                pendingStart = lf + 1
                return String(decoding: line, as: UTF8.self)
            }
            line += pending[pendingStart..<pendingEnd]
            pendingStart = pendingEnd
            if line.count > 4096 { throw Failure(description: "git cat-file: header too long") }
        }
    }
}

/// One blob's bytes, read straight from the cat-file pipe.
private final class BlobReader: SequentialByteReader {
    let stream: GitBlobStream
    var remaining: Int64
    var done = false

    init(stream: GitBlobStream, remaining: Int64) {
        self.stream = stream
        self.remaining = remaining
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if done { return 0 }
        if remaining == 0 {
            done = true
            try stream.finish()
            return 0
        }
        do {
            let n = try stream.readBody(into: buffer, max: Int(Swift.min(remaining, Int64(buffer.count))))
            remaining -= Int64(n)
            return n
        } catch {
            done = true
            stream.spoil("\(error)")
            throw error
        }
    }

    deinit {
        if !done { stream.spoil("a blob was not read to its end") }
    }
}
