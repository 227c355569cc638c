import GoModule
import NIOCore
import NIOPosix

/// What a client of a zip still arriving may be sent, as it becomes releasable: the one
/// place that decides when bytes of an unverified download may leave Warren. Every
/// client — the first, those that join later, a prefetch's — reads the same staging file
/// through this sequence; the HTTP layer only copies what it yields.
///
/// Bytes are yielded up to `written - ZipDownload.holdBack` while the download runs, and
/// the rest once it has been verified. A download that fails ends the sequence with its
/// `ProxyError` before the held-back tail, so no client ever holds a complete bad zip.
public struct ReleasedZipBytes: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer

    let download: ZipDownload
    let chunkSize: Int
    let threadPool: NIOThreadPool

    public init(_ download: ZipDownload, chunkSize: Int = 128 * 1024, threadPool: NIOThreadPool = .singleton) {
        self.download = download
        self.chunkSize = chunkSize
        self.threadPool = threadPool
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let download: ZipDownload
        let chunkSize: Int
        let threadPool: NIOThreadPool
        var sent: Int64 = 0
        var finished = false

        public mutating func next() async throws -> ByteBuffer? {
            while !finished {
                let snapshot = download.snapshot
                let limit = snapshot.releasable(holdBack: ZipDownload.holdBack)
                if sent < limit {
                    let count = Int(Swift.min(Int64(chunkSize), limit - sent))
                    let chunk = try await download.file.readChunk(at: sent, count: count, pool: threadPool)
                    sent += Int64(chunk.readableBytes)
                    return chunk
                }
                switch snapshot.outcome {
                case .success?:
                    finished = true
                    return nil
                case .failure(let error)?:
                    finished = true
                    throw error
                case nil:
                    // Wake on new bytes, not on bytes merely unsent: the held-back tail only
                    // moves when the verdict arrives.
                    _ = await download.waitForProgress(beyond: snapshot.written)
                }
            }
            return nil
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(download: download, chunkSize: chunkSize, threadPool: threadPool)
    }
}

extension ZipDownload {
    /// Waits until some bytes may be sent, or the download has finished: a download that
    /// fails before anything could be released gets a proper error answer, not a cut.
    public func waitForFirstRelease() async -> Snapshot {
        var seen: Int64 = 0
        while true {
            let s = await waitForProgress(beyond: seen)
            if s.outcome != nil || s.releasable(holdBack: ZipDownload.holdBack) > 0 { return s }
            seen = s.written
        }
    }

    /// Waits for the verdict on the whole download.
    public func waitUntilFinished() async -> Snapshot {
        var seen = snapshot.written
        while true {
            let s = await waitForProgress(beyond: seen)
            if s.outcome != nil { return s }
            seen = s.written
        }
    }
}

extension ReadableFile {
    /// `count` bytes from `offset`, read on `pool` (never on the concurrency runtime's
    /// threads): how stored and arriving zips are copied to clients.
    public func readChunk(at offset: Int64, count: Int, pool: NIOThreadPool) async throws -> ByteBuffer {
        try await pool.runIfActive {
            var buffer = ByteBufferAllocator().buffer(capacity: count)
            let n = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { ptr in
                try self.read(into: UnsafeMutableRawBufferPointer(rebasing: ptr[..<count]), at: offset)
            }
            if n == 0 { throw FileIOError("read", self.path) }
            return buffer
        }
    }
}
