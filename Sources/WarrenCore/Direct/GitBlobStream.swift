import Foundation
import GoModule
#if canImport(Glibc)
import Glibc
#endif

/// One `git cat-file` process that hands out blobs one after another as readers, so a
/// module zip is built from a single git process without holding the module's files in
/// memory: each blob is read from the pipe while it is compressed.
///
/// With git 2.36 or later it runs `--batch-command`, which also answers `info` (an
/// object's type and size without its bytes): a zip's file list then comes from tree
/// objects read through the same process instead of an `ls-tree` per zip.
///
/// Readers are opened from the zip writer's worker threads. Only one blob can be in
/// flight on the pipe, so opening a reader takes a lock that the reader gives back once
/// the blob has been read to its end (or the reader is dropped, which spoils the stream).
/// The same process also answers small whole-object reads (`object(_:limit:)`: go.mod
/// files, commits), so a mirror can keep one open instead of starting git per file.
/// Everything here blocks: use it on a thread pool, never on the concurrency runtime.
final class GitBlobStream: @unchecked Sendable {
    private let process: ChildProcess
    /// `--batch-command` (contents and info) rather than `--batch` (contents only).
    let answersInfo: Bool
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
        answersInfo = GitCommand.hasBatchCommand(git)
        do {
            process = try ChildProcess.start(git.executable, ["cat-file", answersInfo ? "--batch-command" : "--batch"],
                                             environment: git.environment, directory: repository,
                                             stdin: .pipe, stdout: .pipe, stderr: .null)
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

    /// The git process's id (for diagnostics and tests).
    var pid: Int32 { process.pid }

    /// Whether the stream is out of step (a reader dropped mid-blob, a failed read): it
    /// must not be used again.
    var isBroken: Bool {
        turn.lock()
        defer { turn.unlock() }
        return broken != nil || closed
    }

    struct TooLarge: Error {}

    /// A whole object by any name git accepts (`<commit>:<path>`, `<hash>^{commit}`):
    /// its type and bytes, or nil when it does not exist. Larger than `limit` throws.
    func object(_ name: String, limit: Int) throws -> (type: String, bytes: [UInt8])? {
        try read(name, limit: limit).map { ($0.type, $0.bytes) }
    }

    /// `object`, with the object's id.
    private func read(_ name: String, limit: Int) throws -> (id: String, type: String, bytes: [UInt8])? {
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
            return (String(fields[0]), String(fields[1]), bytes)
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

    /// The types and sizes of `names` (nil for a missing one), without their bytes.
    /// Needs `answersInfo`. Asked in rounds small enough that neither pipe fills up
    /// while the other is being written.
    func info(_ names: [String]) throws -> [(type: String, size: Int64)?] {
        guard answersInfo else { throw Failure(description: "git cat-file: this git has no --batch-command") }
        var out: [(type: String, size: Int64)?] = []
        out.reserveCapacity(names.count)
        var start = 0
        while start < names.count {
            let round = names[start..<Swift.min(names.count, start + 256)]
            start += round.count
            guard !round.contains(where: { $0.contains("\n") }) else { throw Failure(description: "git cat-file: bad object name") }
            let fields = try exchange(round.map { "info " + $0 }, answers: round.count)
            for f in fields {
                // "<object> <type> <size>", or "<name> missing" / "<name> ambiguous".
                if f.count == 3, let size = Int64(f[2]) { out.append((String(f[1]), size)) } else { out.append(nil) }
            }
        }
        return out
    }

    /// One tree entry as git stores it.
    struct TreeRecord {
        var mode: String
        var name: String
        var object: String
    }

    /// The entries of the tree `name` names (`<commit>^{tree}`, `<commit>:<dir>`), in
    /// git's order; nil when it names nothing or something that is not a tree.
    func tree(_ name: String, limit: Int) throws -> [TreeRecord]? {
        guard let (id, type, bytes) = try read(name, limit: limit), type == "tree" else { return nil }
        // "<mode> <name>\0<binary object id>", repeated; ids are as long as the tree's
        // own (20 bytes in a SHA-1 repository, 32 in a SHA-256 one).
        guard let records = Self.parseTree(bytes, idLength: id.utf8.count / 2) else {
            throw Failure(description: "git cat-file: malformed tree \(name)")
        }
        return records
    }

    static func parseTree(_ bytes: [UInt8], idLength: Int) -> [TreeRecord]? {
        var records: [TreeRecord] = []
        var i = 0
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        while i < bytes.count {
            guard let space = bytes[i...].firstIndex(of: 0x20), let nul = bytes[(space + 1)...].firstIndex(of: 0) else { return nil }
            let idStart = nul + 1, idEnd = idStart + idLength
            guard idEnd <= bytes.count else { return nil }
            let mode = String(decoding: bytes[i..<space], as: UTF8.self)
            guard !mode.isEmpty, mode.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x37 }) else { return nil }
            var id: [UInt8] = []
            id.reserveCapacity(idLength * 2)
            for b in bytes[idStart..<idEnd] {
                id.append(hex[Int(b >> 4)])
                id.append(hex[Int(b & 0x0f)])
            }
            records.append(TreeRecord(mode: mode, name: String(decoding: bytes[(space + 1)..<nul], as: UTF8.self),
                                      object: String(decoding: id, as: UTF8.self)))
            i = idEnd
        }
        return records
    }

    /// Sends `commands` and returns the header fields of `answers` answers that have no
    /// body (info answers). Holds the pipe for the whole exchange.
    private func exchange(_ commands: [String], answers: Int) throws -> [[Substring]] {
        turn.lock()
        while busy { turn.wait() }
        busy = true
        turn.unlock()
        defer { release() }
        do {
            if let broken { throw Failure(description: broken) }
            try Array(commands.map { $0 + "\n" }.joined().utf8).withUnsafeBytes { try process.write($0) }
            var out: [[Substring]] = []
            out.reserveCapacity(answers)
            for _ in 0..<answers { out.append(try readLine().split(separator: " ")) }
            return out
        } catch {
            broken = broken ?? "git cat-file: \(error)"
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
            try Array(((answersInfo ? "contents " : "") + name + "\n").utf8).withUnsafeBytes { try process.write($0) }
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
