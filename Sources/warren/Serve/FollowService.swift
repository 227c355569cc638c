import Foundation
import Logging
import ServiceLifecycle
import WarrenCore

/// `--follow URL [PATTERNS]`: every `--follow-interval`, another proxy's index feed is read
/// from where the last pass stopped (kept in `DATA_DIR/follow.since`), and every new
/// version matching the patterns is mirrored here. One replica follows at a time.
struct FollowService: Service {
    let follower: IndexFollower
    let cursorFile: String
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

    func passInTurn() async {
        let since = (try? String(contentsOfFile: cursorFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        do {
            let result = try await follower.catchUp(since: since?.isEmpty == false ? since : nil)
            if let next = result.since, next != since {
                try Data((next + "\n").utf8).write(to: URL(fileURLWithPath: cursorFile), options: .atomic)
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
