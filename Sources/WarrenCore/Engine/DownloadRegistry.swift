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
    /// Told of a verified zip that could not be stored (for the log).
    private let onCommitFailure: @Sendable (StorageKey, any Error) -> Void

    init(onCommitFailure: @escaping @Sendable (StorageKey, any Error) -> Void = { _, _ in }) {
        self.onCommitFailure = onCommitFailure
    }

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
                do throws(ProxyError) {
                    let metadata = try await work(download, staging)
                    // Verified: every client may have the whole zip now; making it durable
                    // is storage's business, and a failure there only costs a refetch later.
                    download.finish(.success(metadata))
                    do {
                        try await storage.commit(staging, metadata: metadata)
                    } catch {
                        await storage.discard(staging)
                        MetricHandles.counter("warren_storage_errors_total", [("operation", "commit")]).increment()
                        self.onCommitFailure(key, error)
                    }
                } catch {
                    await storage.discard(staging)
                    download.finish(.failure(error))
                }
                self.remove(key)
                download.settle()
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
