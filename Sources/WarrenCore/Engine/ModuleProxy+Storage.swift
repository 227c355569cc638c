import Crypto
import Foundation
import GoModule
import Logging

/// Storage, single-flight and cache-metric helpers shared by the engine's parts.
extension ModuleProxy {
    func readStored(_ key: StorageKey) async throws(ProxyError) -> (bytes: [UInt8], metadata: ArtifactMetadata)? {
        do {
            return try await storage.readSmall(key, limit: Self.smallLimit)
        } catch {
            throw storageError(error, key: key, doing: "read")
        }
    }

    func openStored(_ key: StorageKey) async throws(ProxyError) -> StoredArtifact? {
        do {
            return try await storage.open(key)
        } catch {
            throw storageError(error, key: key, doing: "read")
        }
    }

    func writeStored(_ key: StorageKey, _ bytes: [UInt8], _ metadata: ArtifactMetadata) async throws(ProxyError) {
        do {
            try await storage.writeSmall(key, bytes: bytes, metadata: metadata)
        } catch {
            throw storageError(error, key: key, doing: "write")
        }
    }

    /// A storage failure as the client sees it: 503 with the reason when the backend's
    /// service is unreachable (it will come back), else a plain 500; logged either way.
    func storageError(_ error: any Error, key: StorageKey, doing: String) -> ProxyError {
        logger.error("storage \(doing) failed", metadata: ["key": "\(key)", "error": "\(error)"])
        if let down = error as? StorageUnavailable { return .unavailable(down.reason) }
        return .internalError("storage \(doing) failed")
    }

    func flight<V: Sendable>(_ flights: SingleFlight<StorageKey, V>, _ key: StorageKey,
                             _ work: @escaping @Sendable () async throws(ProxyError) -> V) async throws(ProxyError) -> V {
        do {
            return try await flights.run(key) { try await work() }.value
        } catch let e as ProxyError {
            throw e
        } catch {
            throw ProxyError.internalError("internal error", detail: "\(error)")
        }
    }

    func countCache(_ endpoint: String, hit: Bool) {
        CacheMetrics.count(endpoint, hit: hit)
    }

    static func now() -> Double { Date().timeIntervalSince1970 }

    /// A strong validator for content that has no go.sum hash.
    static func contentTag(_ bytes: [UInt8]) -> String {
        "sha256-" + Data(SHA256.hash(data: bytes)).base64EncodedString()
    }
}
