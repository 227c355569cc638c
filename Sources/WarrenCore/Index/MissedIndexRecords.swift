import Synchronization

/// Artifacts stored while the metadata index could not be written (its database was
/// down), kept so they are recorded once it is back, with no `warren index rebuild`.
///
/// Bounded: past `limit` entries the oldest are dropped and `overflowed` says so (then
/// only a rebuild makes the index whole again). Lost with the process, like any replica
/// state; storage itself is never behind.
final class MissedIndexRecords: Sendable {
    struct Entry: Sendable {
        let module: String
        let version: String
        let kind: ArtifactKind
        let metadata: ArtifactMetadata
    }

    private struct State {
        var entries: [StorageKey: Entry] = [:]
        var order: [StorageKey] = []
        var overflowed = false
    }

    private let state = Mutex(State())
    let limit: Int

    init(limit: Int = 50_000) {
        self.limit = limit
    }

    var count: Int { state.withLock { $0.entries.count } }
    /// Whether entries were dropped since the last call (and forgets it).
    func takeOverflow() -> Bool {
        state.withLock { s in
            defer { s.overflowed = false }
            return s.overflowed
        }
    }

    func add(_ key: StorageKey, _ entry: Entry) {
        state.withLock { s in
            if s.entries.updateValue(entry, forKey: key) == nil { s.order.append(key) }
            while s.entries.count > limit, !s.order.isEmpty {
                s.entries[s.order.removeFirst()] = nil
                s.overflowed = true
            }
        }
    }

    /// Everything kept, oldest first, handed over (what cannot be recorded again is
    /// added back by the caller).
    func takeAll() -> [(StorageKey, Entry)] {
        state.withLock { s in
            let taken = s.order.compactMap { key in s.entries[key].map { (key, $0) } }
            s.entries = [:]
            s.order = []
            return taken
        }
    }
}
