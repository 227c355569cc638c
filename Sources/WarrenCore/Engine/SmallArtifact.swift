import Crypto
import Foundation
import GoModule
import Logging
import Metrics
import NIOCore
import NIOPosix

/// An `.info`, `.mod`, `list`, `@latest` or small zip answer held in memory. The bytes
/// live in a ByteBuffer so that serving shares them instead of copying.
struct SmallArtifact: Sendable {
    var buffer: ByteBuffer
    var metadata: ArtifactMetadata
    var status: ServedArtifact.CacheStatus

    init(bytes: [UInt8], metadata: ArtifactMetadata, status: ServedArtifact.CacheStatus) {
        self.buffer = ByteBuffer(bytes: bytes)
        self.metadata = metadata
        self.status = status
    }

    init(buffer: ByteBuffer, metadata: ArtifactMetadata, status: ServedArtifact.CacheStatus) {
        self.buffer = buffer
        self.metadata = metadata
        self.status = status
    }

    var bytes: [UInt8] { Array(buffer.readableBytesView) }

    func served(contentType: String, cachePolicy: CachePolicy) -> ServedArtifact {
        ServedArtifact(body: .bytes(buffer), contentType: contentType, etag: metadata.etag,
                       lastModified: metadata.storedAt, cachePolicy: cachePolicy, cacheStatus: status, origin: metadata.origin)
    }
}

extension StorageKey {
    var moduleName: String {
        switch self {
        case .artifact(let m, _, _), .list(let m), .latest(let m), .query(let m, _), .tombstone(let m, _): return m
        case .sumdbTile, .sumdbHead, .sumdbRecord, .sumdbCarriedHead, .sharedState, .maintenance: return ""
        }
    }

    /// What to ask an upstream for this key's answer (nil for what no upstream serves).
    var upstreamRequest: ProxyRequest? {
        switch self {
        case .artifact(let m, let v, let kind): return .artifact(module: m, version: v, kind: kind)
        case .list(let m): return .list(module: m)
        case .latest(let m): return .latest(module: m)
        case .query(let m, let q): return .artifact(module: m, version: q, kind: .info)
        case .sumdbTile, .sumdbHead, .sumdbRecord, .sumdbCarriedHead, .sharedState, .tombstone, .maintenance: return nil
        }
    }
}
