import GoModule
import Synchronization

/// The zip downloads in progress, one per artifact: requests for a zip that is already
/// arriving join its download instead of starting another upstream fetch.
final class DownloadRegistry: Sendable {
    private struct Running {
        var download: ZipDownload
        var task: Task<Void, Never>
    }

    private let running = Mutex<[StorageKey: Running]>([:])

    func get(_ key: StorageKey) -> ZipDownload? {
        running.withLock { $0[key]?.download }
    }

    /// Starts `work` for `key` in the background unless a download is already running,
    /// and returns the download clients should follow. The work's result is committed to
    /// storage on success; on failure the staging file is removed.
    func start(_ key: StorageKey, storage: any ArtifactStorage,
               work: @escaping @Sendable (ZipDownload, StagingFile) async throws(ProxyError) -> ArtifactMetadata) async throws(ProxyError) -> ZipDownload {
        let staging: StagingFile
        let file: ReadableFile
        do {
            staging = try await storage.makeStaging(key)
            file = try ReadableFile(path: staging.path)
        } catch {
            throw ProxyError.internalError("cannot create a staging file", detail: "\(error)")
        }
        let download = ZipDownload(file: file)
        let existing = running.withLock { map -> ZipDownload? in
            if let other = map[key] { return other.download }
            let task = Task {
                do {
                    let metadata = try await work(download, staging)
                    try await storage.commit(staging, metadata: metadata)
                    download.finish(.success(metadata))
                } catch let e as ProxyError {
                    await storage.discard(staging)
                    download.finish(.failure(e))
                } catch {
                    await storage.discard(staging)
                    download.finish(.failure(.internalError("storing the zip failed", detail: "\(error)")))
                }
                self.remove(key)
            }
            map[key] = Running(download: download, task: task)
            return nil
        }
        if let existing {
            await storage.discard(staging)
            return existing
        }
        return download
    }

    private func remove(_ key: StorageKey) {
        _ = running.withLock { $0.removeValue(forKey: key) }
    }

    /// Waits for every download in progress (graceful shutdown).
    func drain() async {
        let tasks = running.withLock { $0.values.map(\.task) }
        for t in tasks { await t.value }
    }
}
