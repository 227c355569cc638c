import Foundation
import Synchronization
import Testing
@testable import WarrenCore

/// Tokens made a moment ago (on another replica, or by `warren token`) are accepted on
/// their first use, also when many requests bring one at once.
@Suite struct TokenCacheTests {
    /// A store in memory whose reads take a while, like a database across the network.
    final class SlowStore: TokenStore {
        let records = Mutex<[TokenRecord]>([])
        let generation = Atomic<Int64>(0)
        let reads = Atomic<Int>(0)

        func insertToken(_ record: TokenRecord) async throws {
            records.withLock { $0.append(record) }
            generation.add(1, ordering: .relaxed)
        }
        func tokens() async throws -> [TokenRecord] {
            reads.add(1, ordering: .relaxed)
            try await Task.sleep(for: .milliseconds(30))
            return records.withLock { $0 }
        }
        func revokeToken(id: String, at time: Double) async throws -> Bool { false }
        func tokenGeneration() async throws -> Int64 { generation.load(ordering: .relaxed) }
        func recordTokenUse(_ uses: [String: Double]) async throws {}
    }

    @Test func aNewTokenUsedByManyRequestsAtOnceIsAcceptedByEveryOne() async throws {
        let store = SlowStore()
        let cache = TokenCache(store: store)
        _ = try await cache.refresh()
        let authenticator = Authenticator(tokens: cache)
        let token = AccessToken.generate()
        try await store.insertToken(TokenRecord(id: token.id, user: "ci", groups: [], scopes: [], secretHash: token.secretHash,
                                                createdAt: Date().timeIntervalSince1970, expiresAt: nil))
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<16 {
                group.addTask {
                    if case .principal(.user(let who)) = await authenticator.authenticateLookingUp(authorization: "Bearer " + token.text,
                                                                                               address: "127.0.0.1") {
                        return who.name == "ci"
                    }
                    return false
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes == Array(repeating: true, count: 16))
        // One look-up served them all.
        #expect(store.reads.load(ordering: .relaxed) == 2)
    }
}
