import GoModule
import NIOCore

/// What the engine hands the HTTP layer: the body and everything needed for caching headers.
public struct ServedArtifact: Sendable {
    public enum Body: Sendable {
        /// Small artifacts, already in memory.
        case bytes(ByteBuffer)
        /// A stored zip, open for reading, and its length.
        case file(ReadableFile, size: Int64)
        /// A zip still arriving from upstream.
        case download(ZipDownload)
    }

    public enum CacheStatus: String, Sendable {
        /// Served from Warren's cache.
        case hit
        /// Fetched from upstream for this request (or one it joined).
        case miss
        /// A list/latest answer past its TTL, served while a refresh runs or after it failed.
        case stale
    }

    public var body: Body
    public var contentType: String
    public var etag: String?
    /// Seconds since 1970.
    public var lastModified: Double?
    public var cachePolicy: CachePolicy
    public var cacheStatus: CacheStatus
    /// Which upstream answered, when one did.
    public var origin: String?
    /// Known vulnerabilities of this version that policy only warns about (their IDs).
    public var advisories: [String] = []

    /// Whether the answer can never change (`.info` of a canonical version, `.mod`, `.zip`),
    /// so that it may be cached anywhere, for ever.
    public var isImmutable: Bool { cachePolicy == .immutable }

    /// The full length when known.
    public var length: Int64? {
        switch body {
        case .bytes(let b): return Int64(b.readableBytes)
        case .file(_, let size): return size
        case .download(let d): return d.snapshot.expectedLength
        }
    }
}
