import Crypto
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization
import WarrenCore

/// Replicas take turns fetching a cold artifact through PostgreSQL advisory locks: the
/// lease is a session lock on a connection of its own, named by a hash of the artifact's
/// key. A replica that dies loses its connection and with it the lock, so the next one in
/// line goes ahead at once; no lease table, no heartbeats, no clock to trust.
///
/// At most `maxLeases` leases (connections) at once per replica, so a burst of cold zips
/// cannot run PostgreSQL out of connections (its default is 100 for all clients); past
/// that, `acquire` throws `FetchCoordinatorBusy` and the fetch goes ahead alone.
public final class PostgresFetchCoordinator: FetchCoordinator {
    let configuration: PostgresConnection.Configuration
    let logger: Logger
    let ids = Atomic<Int>(0)
    /// How long connecting may take; waiting for another replica's lease is bounded by
    /// that replica's own upstream timeouts, not here.
    let connectLimit: Duration
    public let maxLeases: Int
    let leases = Atomic<Int>(0)

    /// Leases held (or being taken) now.
    public var leasesInUse: Int { leases.load(ordering: .relaxed) }

    public init(url: String, logger: Logger, connectLimit: Duration = .seconds(3), maxLeases: Int = 32) throws {
        let settings = try PostgresURL(url)
        var configuration = PostgresConnection.Configuration(
            host: settings.host, port: settings.port, username: settings.user, password: settings.password,
            database: settings.database,
            tls: settings.requireTLS ? .require(try .init(configuration: .makeClientConfiguration()))
                : settings.disableTLS ? .disable : .prefer(try .init(configuration: .makeClientConfiguration())))
        configuration.options.connectTimeout = .seconds(3)
        self.configuration = configuration
        self.logger = logger
        self.connectLimit = connectLimit
        self.maxLeases = maxLeases
    }

    /// The advisory lock's number: the first 8 bytes of the key's SHA-256.
    static func lockID(_ key: StorageKey) -> Int64 {
        let digest = Array(SHA256.hash(data: Array(("warren-fetch:" + key.relativePath).utf8)))
        return digest.prefix(8).reduce(Int64(0)) { ($0 << 8) | Int64($1) }
    }

    public func acquire(_ key: StorageKey) async throws -> any FetchLease {
        // Waiting, a lease always comes (or an error).
        guard let lease = try await lease(key, wait: true) else { throw CancellationError() }
        return lease
    }

    public func tryAcquire(_ key: StorageKey) async throws -> (any FetchLease)? {
        try await lease(key, wait: false)
    }

    /// A lease on a connection of its own: at once if free; else after waiting for it
    /// (`wait`), or nil.
    func lease(_ key: StorageKey, wait: Bool) async throws -> Lease? {
        guard leases.add(1, ordering: .relaxed).newValue <= maxLeases else {
            leases.subtract(1, ordering: .relaxed)
            throw FetchCoordinatorBusy(limit: maxLeases)
        }
        do {
            guard let lease = try await connectAndLock(key, wait: wait) else {
                leases.subtract(1, ordering: .relaxed)
                return nil
            }
            return lease
        } catch {
            leases.subtract(1, ordering: .relaxed)
            throw error
        }
    }

    private func connectAndLock(_ key: StorageKey, wait: Bool) async throws -> Lease? {
        let id = ids.add(1, ordering: .relaxed).newValue
        let connection = try await PostgresConnection.connect(on: MultiThreadedEventLoopGroup.singleton.any(),
                                                              configuration: configuration, id: id, logger: logger)
        let lock = Self.lockID(key)
        do {
            var got = false
            for try await value in try await connection.query("SELECT pg_try_advisory_lock(\(lock))", logger: logger).decode(Bool.self) {
                got = value
            }
            if !got {
                guard wait else {
                    try? await connection.close()
                    return nil
                }
                // Another replica is fetching it: wait for its lease to end.
                try await connection.query("SELECT pg_advisory_lock(\(lock))", logger: logger)
            }
            return Lease(connection: connection, lock: lock, waited: !got, logger: logger, owner: self)
        } catch {
            try? await connection.close()
            throw error
        }
    }

    final class Lease: FetchLease {
        let connection: PostgresConnection
        let lock: Int64
        let waited: Bool
        let logger: Logger
        /// Whose count of leases this one is in.
        let owner: PostgresFetchCoordinator
        let released = Atomic<Bool>(false)

        init(connection: PostgresConnection, lock: Int64, waited: Bool, logger: Logger, owner: PostgresFetchCoordinator) {
            self.connection = connection
            self.lock = lock
            self.waited = waited
            self.logger = logger
            self.owner = owner
        }

        /// Unlocks and closes (closing alone would unlock too; unlocking first says so
        /// plainly to the server).
        func release() async {
            guard !released.exchange(true, ordering: .relaxed) else { return }
            _ = try? await connection.query("SELECT pg_advisory_unlock(\(lock))", logger: logger)
            try? await connection.close()
            owner.leases.subtract(1, ordering: .relaxed)
        }
    }
}
