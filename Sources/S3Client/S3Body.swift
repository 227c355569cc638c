import AsyncHTTPClient
import Crypto
import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// What a PUT sends: bytes in memory (small artifacts, XML documents) or a range of a
/// file (zips, parts of a multipart upload), which is read in chunks as it is sent and
/// never held whole. A body can be sent again, so a request can be retried.
public enum S3Body: Sendable {
    case bytes([UInt8])
    /// `length` bytes of the file at `path` from `offset`.
    case file(path: String, offset: Int64, length: Int64)

    static let empty = S3Body.bytes([])

    var length: Int64 {
        switch self {
        case .bytes(let b): return Int64(b.count)
        case .file(_, _, let length): return length
        }
    }

    /// Chunks read from a file while it is sent.
    static let chunkSize = 256 * 1024

    /// The lower-case hex SHA-256 that Signature Version 4 signs: for a file, one pass over
    /// the range before it is sent (from the page cache, where it was just written).
    func sha256(threadPool: NIOThreadPool) async throws -> String {
        switch self {
        case .bytes(let b):
            return SigV4Signer.hex(SHA256.hash(data: b))
        case .file(let path, let offset, let length):
            return try await threadPool.runIfActive {
                let fd = try Self.open(path)
                defer { close(fd) }
                var hasher = SHA256()
                var buffer = [UInt8](repeating: 0, count: Self.chunkSize)
                var done: Int64 = 0
                while done < length {
                    let want = Int(min(Int64(Self.chunkSize), length - done))
                    let n = try Self.read(fd, into: &buffer, count: want, at: offset + done, path: path)
                    hasher.update(data: buffer[..<n])
                    done += Int64(n)
                }
                return SigV4Signer.hex(hasher.finalize())
            }
        }
    }

    func requestBody(threadPool: NIOThreadPool) -> HTTPClientRequest.Body {
        switch self {
        case .bytes(let b):
            return .bytes(b)
        case .file(let path, let offset, let length):
            return .stream(FileRangeChunks(path: path, offset: offset, length: length, threadPool: threadPool), length: .known(length))
        }
    }

    static func open(_ path: String) throws -> Int32 {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw S3Error(kind: .malformed, message: "cannot open \(path): errno \(errno)", operation: "read body") }
        return fd
    }

    /// Reads exactly `count` bytes at `offset`; a file shorter than promised is an error.
    static func read(_ fd: Int32, into buffer: inout [UInt8], count: Int, at offset: Int64, path: String) throws -> Int {
        var got = 0
        while got < count {
            let n = buffer.withUnsafeMutableBytes { p in
                pread(fd, p.baseAddress.map { $0 + got }, count - got, off_t(offset) + off_t(got))
            }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw S3Error(kind: .malformed, message: "\(path) ended early", operation: "read body") }
            got += n
        }
        return got
    }
}

/// A file range as the ByteBuffers AsyncHTTPClient sends, read on the thread pool one
/// chunk at a time (the client asks for the next only when the last has gone out).
struct FileRangeChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let path: String
    let offset: Int64
    let length: Int64
    let threadPool: NIOThreadPool

    struct AsyncIterator: AsyncIteratorProtocol {
        let chunks: FileRangeChunks
        var done: Int64 = 0
        var fd: FileDescriptorBox?

        mutating func next() async throws -> ByteBuffer? {
            guard done < chunks.length else { fd = nil; return nil }
            if fd == nil { fd = FileDescriptorBox(try S3Body.open(chunks.path)) }
            guard let box = fd else { return nil }
            let want = Int(Swift.min(Int64(S3Body.chunkSize), chunks.length - done))
            let at = chunks.offset + done
            let path = chunks.path
            let buffer = try await chunks.threadPool.runIfActive { () throws -> ByteBuffer in
                var bytes = [UInt8](repeating: 0, count: want)
                _ = try S3Body.read(box.fd, into: &bytes, count: want, at: at, path: path)
                return ByteBuffer(bytes: bytes)
            }
            done += Int64(want)
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(chunks: self) }
}

/// Closes its descriptor when the last reference goes (an upload abandoned midway).
final class FileDescriptorBox: Sendable {
    let fd: Int32
    init(_ fd: Int32) { self.fd = fd }
    deinit { close(fd) }
}
