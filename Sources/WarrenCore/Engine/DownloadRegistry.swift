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
    /// Replicas sharing storage take turns fetching a key (nil: one node, no turns).
    let coordinator: (any FetchCoordinator)?
    /// Told when the coordinator could not be asked (the fetch then goes ahead alone).
    private let onCoordinationFailure: @Sendable (StorageKey, any Error) -> Void

    init(coordinator: (any FetchCoordinator)? = nil,
         onCommitFailure: @escaping @Sendable (StorageKey, any Error) -> Void = { _, _ in },
         onCoordinationFailure: @escaping @Sendable (StorageKey, any Error) -> Void = { _, _ in }) {
        self.coordinator = coordinator
        self.onCommitFailure = onCommitFailure
        self.onCoordinationFailure = onCoordinationFailure
    }

    func get(_ key: StorageKey) -> ZipDownload? {
        running.withLock { $0[key]?.download }
    }

    /// Starts `work` for `key` in the background unless a download is already running,
    /// and returns the download clients should follow. The work's result is committed to
    /// storage on success; on failure the staging file is removed. With a coordinator,
    /// the work starts once this replica holds the key's lease (its third argument is
    /// then true: storage must be looked at again, since another replica may have stored
    /// the artifact before the lease came), and the lease is given back after the commit.
    func start(_ key: StorageKey, storage: any ArtifactStorage, coordinated: Bool = true,
               work: @escaping @Sendable (ZipDownload, StagingFile, Bool) async throws(ProxyError) -> ArtifactMetadata) async throws(ProxyError) -> ZipDownload {
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
                var lease: (any FetchLease)?
                if coordinated, let coordinator = self.coordinator {
                    do {
                        lease = try await coordinator.acquire(key)
                    } catch is FetchCoordinatorBusy {
                        MetricHandles.counter("warren_fetch_coordination_skipped_total", []).increment()
                    } catch {
                        MetricHandles.counter("warren_fetch_coordination_errors_total", []).increment()
                        self.onCoordinationFailure(key, error)
                    }
                }
                do throws(ProxyError) {
                    if lease?.waited == true {
                        MetricHandles.counter("warren_fetch_coordination_waits_total", []).increment()
                    }
                    let metadata = try await work(download, staging, lease != nil)
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
                await lease?.release()
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
