import Logging
import PostgresIndex
import TestServers
import Testing
import WarrenCore

/// Fetch leases on a real PostgreSQL: one holder per key, a free lease for the sweep of
/// abandoned uploads, and a bound on the connections a replica spends on leases.
@Suite struct PostgresFetchCoordinatorTests {
    static func key(_ n: Int) -> StorageKey { .artifact(module: "example.com/lease\(n)", version: "v1.0.0", kind: .zip) }

    @Test func leasesAreExclusiveAndBounded() async throws {
        let server = try await PostgresServer.shared()
        let url = server.url(try await server.createDatabase())
        let mine = try PostgresFetchCoordinator(url: url, logger: Logger(label: "test"), maxLeases: 2)
        let theirs = try PostgresFetchCoordinator(url: url, logger: Logger(label: "test"))
        let first = try await mine.acquire(Self.key(1))
        #expect(!first.waited)
        // Held by another replica: not free.
        #expect(try await theirs.tryAcquire(Self.key(1)) == nil)
        let second = try await mine.acquire(Self.key(2))
        #expect(mine.leasesInUse == 2)
        // A third at once would be a third connection: refused, so the fetch goes alone.
        await #expect(throws: FetchCoordinatorBusy.self) { _ = try await mine.acquire(Self.key(3)) }
        #expect(mine.leasesInUse == 2)
        await first.release()
        await first.release()  // twice is harmless and counts once
        #expect(mine.leasesInUse == 1)
        let free = try #require(try await theirs.tryAcquire(Self.key(1)))
        await free.release()
        let third = try await mine.acquire(Self.key(3))
        await second.release()
        await third.release()
        #expect(mine.leasesInUse == 0)
        #expect(theirs.leasesInUse == 0)
    }
}
