import Foundation
import Logging
import ServiceLifecycle
import WarrenCore

/// `--follow URL [PATTERNS]`: every `--follow-interval`, another proxy's index feed is read
/// from where the last pass stopped, and every new version matching the patterns is
/// mirrored here. One replica follows at a time, and where it stopped is kept in storage
/// (`state/follow.since`), so the next replica to take its turn — or one started on an
/// empty disk — goes on from there. (Earlier versions kept it in `DATA_DIR/follow.since`;
/// that file is read once when storage holds no cursor yet.)
struct FollowService: Service {
    let follower: IndexFollower
    let storage: any ArtifactStorage
    let legacyCursorFile: String
    let coordinator: (any FetchCoordinator)?
    let interval: Duration
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await pass()
                try? await Task.sleep(for: interval)
            }
        }
    }

    func pass() async {
        await inMaintenanceTurn(coordinator, "follow") { await passInTurn() }
    }

    static let cursorKey = StorageKey.sharedState("follow.since")

    /// Where the last pass stopped: from storage, else the data directory's old file.
    func cursor() async -> String? {
        var text: String?
        if let stored = try? await storage.readSmall(Self.cursorKey, limit: 4096) {
            text = String(decoding: stored.bytes, as: UTF8.self)
        } else {
            text = try? String(contentsOfFile: legacyCursorFile, encoding: .utf8)
        }
        let since = text?.trimmingCharacters(in: .whitespacesAndNewlines)
        return since?.isEmpty == false ? since : nil
    }

    func passInTurn() async {
        let since = await cursor()
        do {
            let result = try await follower.catchUp(since: since)
            if let next = result.since, next != since {
                let bytes = Array((next + "\n").utf8)
                try await storage.writeSmall(Self.cursorKey, bytes: bytes,
                                             metadata: ArtifactMetadata(size: Int64(bytes.count), hash: "cursor", storedAt: Date().timeIntervalSince1970))
            }
            MetricHandles.counter("warren_follow_versions_total", [("result", "mirrored")]).increment(by: Int64(result.mirrored))
            if !result.failures.isEmpty {
                MetricHandles.counter("warren_follow_versions_total", [("result", "failed")]).increment(by: Int64(result.failures.count))
                logger.warning("following: some versions could not be mirrored", metadata: [
                    "count": "\(result.failures.count)", "first": "\(result.failures[0].item.module)@\(result.failures[0].item.version): \(result.failures[0].reason)"])
            }
        } catch {
            logger.warning("following: the index feed could not be read; trying again next pass", metadata: ["error": "\(error)"])
        }
    }
}
