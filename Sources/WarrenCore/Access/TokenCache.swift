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
    public let store: any TokenStore
    /// Records by ID, each with the identity it proves (scopes parsed once, at load).
    private let state = Mutex<(records: [String: (record: TokenRecord, identity: UserIdentity)], generation: Int64?)>(([:], nil))
    private let uses = Mutex<[String: Double]>([:])
    private let versionCounter = Atomic<Int>(0)

    /// Moves whenever what this cache knows changes (a reload, a revocation here):
    /// whoever remembered an identity must look again.
    public var version: Int { versionCounter.load(ordering: .acquiring) }

    public init(store: any TokenStore) {
        self.store = store
    }

    /// Reloads the tokens if they changed; returns whether it did.
    @discardableResult
    public func refresh() async throws -> Bool {
        let generation = try await store.tokenGeneration()
        if state.withLock({ $0.generation == generation }) { return false }
        let records = try await store.tokens()
        let entries = records.map { record in
            (record.id, (record, UserIdentity(name: record.user, groups: record.groups,
                                              scopes: record.scopes.compactMap { try? AccessScope($0) }, tokenID: record.id)))
        }
        state.withLock { $0 = (Dictionary(entries, uniquingKeysWith: { _, last in last }), generation) }
        versionCounter.add(1, ordering: .releasing)
        return true
    }

    /// The look-up for unknown tokens: when the last one started, and the one running.
    private let eager = Mutex<(last: Double, running: Task<Void, Never>?)>((0, nil))

    /// Whether a token with this ID is known here (revoked and expired ones included).
    public func knows(id: String) -> Bool { state.withLock { $0.records[id] != nil } }

    /// A token this replica does not know may have been created a moment ago: look
    /// again now, at most ten times a second (so made-up IDs cannot flood the database).
    /// Callers that arrive while a look-up runs wait for it, so a new token used by many
    /// requests at once is known to all of them, not only to the one that asked first.
    public func refreshForUnknownToken() async {
        let now = Date().timeIntervalSince1970
        let lookUp = eager.withLock { s -> Task<Void, Never>? in
            if let running = s.running { return running }
            guard now - s.last >= 0.1 else { return nil }
            s.last = now
            let task = Task { [self] in
                _ = try? await refresh()
                eager.withLock { $0.running = nil }
            }
            s.running = task
            return task
        }
        await lookUp?.value
    }

    /// The token's expiry (nil: none), for callers that remember an identity.
    public func expiry(of id: String) -> Double? {
        state.withLock { $0.records[id]?.record.expiresAt }
    }

    /// Notes a use of the token (written with the next flush).
    public func noteUse(of id: String, at time: Double) {
        uses.withLock { $0[id] = time }
    }

    /// Whether the token is a real one whose time is over (revoked or expired): a
    /// client using a stale token is not guessing, and is not throttled for it.
    public func isInactive(_ token: AccessToken, at time: Double = Date().timeIntervalSince1970) -> Bool {
        guard let record = state.withLock({ $0.records[token.id]?.record }) else { return false }
        return !record.isActive(at: time) && token.matches(storedHash: record.secretHash)
    }

    /// Marks a token revoked here at once (the store has it already).
    public func forget(id: String) {
        state.withLock { s in s.records[id]?.record.revokedAt = Date().timeIntervalSince1970 }
        versionCounter.add(1, ordering: .releasing)
    }

    /// The identity a token proves, or nil when it is unknown, revoked, expired or wrong.
    public func identity(for token: AccessToken, at time: Double = Date().timeIntervalSince1970, recordUse: Bool = true) -> UserIdentity? {
        guard let entry = state.withLock({ $0.records[token.id] }), entry.record.isActive(at: time),
              token.matches(storedHash: entry.record.secretHash) else { return nil }
        if recordUse { uses.withLock { $0[token.id] = time } }
        return entry.identity
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
