/// Background work that one replica at a time should do (sync, following a feed): runs
/// `body` while holding the coordinator's `maintenance(name)` lease, or at once on a
/// single node; returns false, without running it, when another replica holds the turn.
@discardableResult
public func inMaintenanceTurn(_ coordinator: (any FetchCoordinator)?, _ name: String, _ body: () async -> Void) async -> Bool {
    guard let coordinator else {
        await body()
        return true
    }
    guard let lease = try? await coordinator.tryAcquire(.maintenance(name)) else { return false }
    await body()
    await lease.release()
    return true
}
