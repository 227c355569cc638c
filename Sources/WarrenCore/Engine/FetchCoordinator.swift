/// Decides which replica fetches a cold artifact when several share one storage: without
/// it, each replica that sees the first request for a zip fetches it from the upstream.
///
/// The engine takes a lease before a zip's download begins and gives it back once the
/// zip is committed (or the download failed). A replica that had to wait for another's
/// lease looks in storage first and serves what the other stored. A replica that dies
/// loses its lease with its connection, so another takes over at once; nothing partial is
/// ever visible, since storage only shows committed objects.
public protocol FetchCoordinator: Sendable {
    /// Waits until no other replica is fetching `key`, then holds the right to.
    func acquire(_ key: StorageKey) async throws -> any FetchLease

    /// The lease if nobody holds it now, else nil at once. A free lease proves that no
    /// live replica is fetching or storing `key`: whatever it left half-done (an open
    /// multipart upload) is abandoned.
    func tryAcquire(_ key: StorageKey) async throws -> (any FetchLease)?
}

/// The coordinator holds as many leases as it may (each costs a database connection):
/// the fetch goes ahead without one. Replicas may then fetch the same zip twice, which is
/// harmless (the same verified bytes); running the database out of connections is not.
public struct FetchCoordinatorBusy: Error, CustomStringConvertible {
    public let limit: Int
    public init(limit: Int) { self.limit = limit }
    public var description: String { "all \(limit) fetch leases of this replica are in use" }
}

public protocol FetchLease: Sendable {
    /// Another replica held the lease while this one waited (it has probably stored the
    /// artifact by now).
    var waited: Bool { get }
    func release() async
}
