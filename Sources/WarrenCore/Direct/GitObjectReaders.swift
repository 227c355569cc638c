import Synchronization

/// A mirror's `git cat-file` processes, kept running between requests: go.mod reads,
/// commit times, tree listings and the blobs of a zip all go through them, so serving a
/// version starts no git process once its mirror is fetched. A reader is lent to one
/// caller at a time (a zip holds one while it is built); a second concurrent caller
/// gets another, started on demand. Readers that fail, or that belong to the mirror as
/// it was before a fetch, are closed instead of kept.
///
/// Everything here blocks: use it on a thread pool.
final class GitObjectReaders: Sendable {
    let git: GitCommand
    let repository: String
    /// Idle readers kept for the next caller; more are closed when given back.
    let keep: Int

    private struct State {
        var generation = 0
        /// Idle readers and when each was given back.
        var idle: [(reader: GitBlobStream, since: ContinuousClock.Instant)] = []
    }

    private let state = Mutex(State())

    init(git: GitCommand, repository: String, keep: Int = 2) {
        self.git = git
        self.repository = repository
        self.keep = keep
    }

    /// Runs `body` with a reader of its own.
    func withReader<T>(_ body: (GitBlobStream) throws -> T) throws -> T {
        let (reader, generation) = try borrow()
        defer { giveBack(reader, generation: generation) }
        return try body(reader)
    }

    private func borrow() throws(GitBlobStream.Failure) -> (GitBlobStream, Int) {
        let (idle, generation) = state.withLock { s in (s.idle.popLast()?.reader, s.generation) }
        if let idle { return (idle, generation) }
        return (try GitBlobStream(git: git, repository: repository), generation)
    }

    private func giveBack(_ reader: GitBlobStream, generation: Int) {
        let kept = !reader.isBroken && state.withLock { s -> Bool in
            guard s.generation == generation, s.idle.count < keep else { return false }
            s.idle.append((reader, ContinuousClock.now))
            return true
        }
        if !kept { reader.close() }
    }

    /// After a fetch: readers started before it are closed (now, or when given back).
    func reset() {
        let old = state.withLock { s -> [GitBlobStream] in
            s.generation += 1
            defer { s.idle = [] }
            return s.idle.map(\.reader)
        }
        for reader in old { reader.close() }
    }

    /// Closes readers idle for longer than `age`: a server with thousands of mirrors
    /// keeps processes only for the repositories in use. Returns how many are left.
    @discardableResult
    func closeIdle(olderThan age: Duration) -> Int {
        let now = ContinuousClock.now
        let (expired, left) = state.withLock { s -> ([GitBlobStream], Int) in
            let old = s.idle.filter { now - $0.since > age }.map(\.reader)
            s.idle.removeAll { now - $0.since > age }
            return (old, s.idle.count)
        }
        for reader in expired { reader.close() }
        return left
    }
}
