import Foundation
import Synchronization

/// Every token the store holds, in memory, so checking a request's token costs no
/// database round trip (the fast path checks tokens on the event loop).
///
/// `refresh()` reloads the tokens when the store's generation has moved (a token was
/// created or revoked, by this replica, another, or `warren token`); the server calls it
/// every second, so a revocation takes effect everywhere within about a second. Expiry
/// is checked on every use. Uses are collected and written in batches.
public final class TokenCache: Sendable {
    let store: any TokenStore
    private let state = Mutex<(records: [String: TokenRecord], generation: Int64?)>(([:], nil))
    private let uses = Mutex<[String: Double]>([:])

    public init(store: any TokenStore) {
        self.store = store
    }

    /// Reloads the tokens if they changed; returns whether it did.
    @discardableResult
    public func refresh() async throws -> Bool {
        let generation = try await store.tokenGeneration()
        if state.withLock({ $0.generation == generation }) { return false }
        let records = try await store.tokens()
        state.withLock { $0 = (Dictionary(records.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last }), generation) }
        return true
    }

    private let lastEagerRefresh = Mutex<Double>(0)

    /// Whether a token with this ID is known here (revoked and expired ones included).
    public func knows(id: String) -> Bool { state.withLock { $0.records[id] != nil } }

    /// A token this replica does not know may have been created a moment ago: look
    /// again now, at most ten times a second (so made-up IDs cannot flood the database).
    public func refreshForUnknownToken() async {
        let now = Date().timeIntervalSince1970
        let due = lastEagerRefresh.withLock { last in
            guard now - last >= 0.1 else { return false }
            last = now
            return true
        }
        if due { _ = try? await refresh() }
    }

    /// Whether the token is a real one whose time is over (revoked or expired): a
    /// client using a stale token is not guessing, and is not throttled for it.
    public func isInactive(_ token: AccessToken, at time: Double = Date().timeIntervalSince1970) -> Bool {
        guard let record = state.withLock({ $0.records[token.id] }) else { return false }
        return !record.isActive(at: time) && token.matches(storedHash: record.secretHash)
    }

    /// Marks a token revoked here at once (the store has it already).
    public func forget(id: String) {
        state.withLock { s in s.records[id]?.revokedAt = Date().timeIntervalSince1970 }
    }

    /// The identity a token proves, or nil when it is unknown, revoked, expired or wrong.
    public func identity(for token: AccessToken, at time: Double = Date().timeIntervalSince1970, recordUse: Bool = true) -> UserIdentity? {
        guard let record = state.withLock({ $0.records[token.id] }), record.isActive(at: time),
              token.matches(storedHash: record.secretHash) else { return nil }
        if recordUse { uses.withLock { $0[token.id] = time } }
        return UserIdentity(name: record.user, groups: record.groups, scopes: record.scopes.compactMap { try? AccessScope($0) },
                            tokenID: record.id)
    }

    /// Writes the last-use times collected since the last call.
    public func flushUses() async {
        let batch = uses.withLock { u in
            defer { u = [:] }
            return u
        }
        guard !batch.isEmpty else { return }
        do {
            try await store.recordTokenUse(batch)
        } catch {
            uses.withLock { u in u.merge(batch) { max($0, $1) } }
        }
    }
}
