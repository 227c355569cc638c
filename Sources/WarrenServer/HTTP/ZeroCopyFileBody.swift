import GoModule
import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1

/// Sends a stored file as the response body with `sendfile(2)`: no copy through user
/// space and no buffers held per connection, which is how nginx serves files.
///
/// Hummingbird's body writer only takes `ByteBuffer`s, so the file region is written one
/// level lower, into the HTTP/1 encoder just below Hummingbird's HTTP-types codec. The
/// response head has already gone through Hummingbird's writer, which hands each part to
/// the event loop in order; this write is submitted to the same loop afterwards, so it
/// lands after the head, and the caller finishes the response (`.end`) through
/// Hummingbird's writer once the region is written.
enum ZeroCopyFileBody {
    /// Writes `range` of `file` and waits until the socket has taken it all. Returns
    /// false, having written nothing, when the connection has no HTTP/1 codec to take a
    /// file region: copy instead. Only for plain-text connections: bytes under TLS must be
    /// encrypted in user space, so a TLS server must not call this.
    static func send(_ file: ReadableFile, range: ByteRange, channel: any Channel) async throws -> Bool {
        let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: try file.duplicateDescriptor())
        defer { try? handle.close() }
        let region = FileRegion(fileHandle: handle, readerIndex: Int(range.start), endIndex: Int(range.end) + 1)
        let written: EventLoopFuture<Bool> = channel.eventLoop.flatSubmit {
            guard let codec = try? channel.pipeline.syncOperations.context(handlerType: HTTP1ToHTTPServerCodec.self)
            else {
                return channel.eventLoop.makeSucceededFuture(false)
            }
            return codec.writeAndFlush(NIOAny(HTTPServerResponsePart.body(.fileRegion(region)))).map { true }
        }
        return try await written.get()
    }
}
