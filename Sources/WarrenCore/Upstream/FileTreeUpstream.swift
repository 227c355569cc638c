import GoModule
import NIOCore
import NIOPosix

/// A `file://` upstream: a directory in GOPROXY layout, the air-gapped case.
/// Paths are validated requests, so they cannot leave the tree.
public struct FileTreeUpstream: Upstream {
    public let root: String
    public let name: String
    let threadPool: NIOThreadPool

    public init(url: String, threadPool: NIOThreadPool = .singleton) {
        var path = url
        if path.hasPrefix("file://") { path.removeFirst("file://".count) } else if path.hasPrefix("file:") { path.removeFirst("file:".count) }
        while path.hasSuffix("/") && path.count > 1 { path.removeLast() }
        self.root = path
        // Never the local path: it would show in error bodies and metric labels.
        self.name = URLDisplayName.of(url)
        self.threadPool = threadPool
    }

    public func fetch(_ request: ProxyRequest) async throws(UpstreamFailure) -> UpstreamResponse {
        try await Self.stream(root + "/" + request.proxyPath, name: name, threadPool: threadPool)
    }

    /// A file's contents as an upstream answer, read in 256 KiB chunks on `threadPool`.
    static func stream(_ full: String, name: String, threadPool: NIOThreadPool) async throws(UpstreamFailure) -> UpstreamResponse {
        let file: ReadableFile
        do {
            file = try await threadPool.runIfActive { try ReadableFile(path: full) }
        } catch let e as FileIOError where e.isNotFound {
            throw .notFound(status: 404, message: "not found")
        } catch {
            throw .failed(message: "cannot read \(name)")
        }
        let pool = threadPool
        return UpstreamResponse(contentLength: file.size, body: UpstreamBody {
            let state = ReadPosition()
            return UpstreamBody.Iterator {
                let offset = state.offset
                if offset >= file.size { return nil }
                let count = Int(min(256 * 1024, file.size - offset))
                let buffer = try await pool.runIfActive { () throws -> ByteBuffer in
                    var buf = ByteBufferAllocator().buffer(capacity: count)
                    let n = try buf.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { ptr in
                        try file.read(into: UnsafeMutableRawBufferPointer(rebasing: ptr[..<count]), at: offset)
                    }
                    if n == 0 { throw UpstreamFailure.failed(message: "file shrank while reading") }
                    return buf
                }
                state.offset += Int64(buffer.readableBytes)
                return buffer
            }
        })
    }
}

/// The read offset of one pass over a file; used by one iterator at a time.
final class ReadPosition: @unchecked Sendable {
    var offset: Int64 = 0
}
