import Foundation
import GoModule

/// One `git cat-file --batch` process that hands out blobs one after another as
/// readers, so a module zip is built from a single git process without holding the
/// module's files in memory: each blob is read from the pipe while it is compressed.
///
/// Readers are opened from the zip writer's worker threads. Only one blob can be in
/// flight on the pipe, so opening a reader takes a lock that the reader gives back once
/// the blob has been read to its end (or the reader is dropped, which spoils the stream).
/// Everything here blocks: use it on a thread pool, never on the concurrency runtime.
final class GitBlobStream: @unchecked Sendable {
    private let process = Process()
    private let stdin = Pipe()
    private let stdout = Pipe()
    private let turn = NSCondition()
    private var busy = false
    private var broken: String?

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    init(git: GitCommand, repository: String) throws(Failure) {
        process.executableURL = URL(fileURLWithPath: git.executable)
        process.arguments = ["cat-file", "--batch"]
        process.environment = git.environment
        process.currentDirectoryURL = URL(fileURLWithPath: repository)
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw Failure(description: "cannot run git cat-file: \(error.localizedDescription)")
        }
    }

    /// Ends the git process (closing its input makes it exit).
    func close() {
        try? stdin.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    /// A reader for `object`, which must be a blob of `size` bytes. Blocks until the
    /// previous reader has finished.
    func open(_ object: String, size: Int64) throws -> any SequentialByteReader {
        turn.lock()
        while busy { turn.wait() }
        busy = true
        turn.unlock()
        do {
            if let broken { throw Failure(description: broken) }
            try stdin.fileHandleForWriting.write(contentsOf: Data((object + "\n").utf8))
            let header = try readLine()
            // "<object> blob <size>"
            let fields = header.split(separator: " ")
            guard fields.count == 3, fields[0] == object, fields[1] == "blob", Int64(fields[2]) == size else {
                throw Failure(description: "git cat-file: unexpected answer for \(object): \(header.prefix(80))")
            }
            return BlobReader(stream: self, remaining: size)
        } catch {
            spoil("git cat-file: \(error)")
            throw error
        }
    }

    fileprivate func readBody(into buffer: UnsafeMutableRawBufferPointer, max: Int) throws -> Int {
        guard max > 0 else { return 0 }
        guard let data = try stdout.fileHandleForReading.read(upToCount: Swift.min(max, buffer.count)), !data.isEmpty else {
            throw Failure(description: "git cat-file ended early")
        }
        data.copyBytes(to: buffer.bindMemory(to: UInt8.self), count: data.count)
        return data.count
    }

    /// Called by a reader that has read its blob: eats the newline after it and lets
    /// the next reader in.
    fileprivate func finish() throws {
        defer { release() }
        guard let lf = try stdout.fileHandleForReading.read(upToCount: 1), lf == Data([0x0A]) else {
            broken = "git cat-file: stream out of step"
            throw Failure(description: "git cat-file: stream out of step")
        }
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
            guard let byte = try stdout.fileHandleForReading.read(upToCount: 1), let b = byte.first else {
                throw Failure(description: "git cat-file ended early")
            }
            if b == 0x0A { return String(decoding: line, as: UTF8.self) }
            line.append(b)
            if line.count > 512 { throw Failure(description: "git cat-file: header too long") }
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
