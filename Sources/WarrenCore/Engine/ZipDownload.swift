import GoModule
import Synchronization

/// A module zip being fetched from upstream, shared by every client that asked for it
/// meanwhile (single-flight for zips).
///
/// The fetch writes a staging file; clients read that file as it grows and so get their
/// first bytes about as soon as the upstream sends them. The last `holdBack` bytes (which
/// hold the zip's central directory) are released only once the whole zip has been
/// verified: a zip that fails verification never reaches a client complete, and the
/// connection is cut instead.
///
/// A verified zip is released in full at once, before it is made durable in storage (an
/// fsync and a rename that clients need not wait for). Until that commit has ended the
/// download stays registered, so a request arriving meanwhile waits for it
/// (`waitUntilSettled`) and is then served from storage.
public final class ZipDownload: Sendable {
    public struct Snapshot: Sendable {
        public var written: Int64
        public var expectedLength: Int64?
        /// nil while in progress.
        public var outcome: Result<ArtifactMetadata, ProxyError>?

        /// How many bytes a client may be sent now.
        public func releasable(holdBack: Int64) -> Int64 {
            if case .success? = outcome { return written }
            return max(0, written - holdBack)
        }
    }

    private struct State {
        var snapshot = Snapshot(written: 0, expectedLength: nil, outcome: nil)
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    /// Bytes withheld until verification; more than any zip end record needs.
    public static let holdBack: Int64 = 64 * 1024

    public let file: ReadableFile
    private let state = Mutex(State())
    private let settled = OneTimeSignal()

    init(file: ReadableFile) {
        self.file = file
    }

    public var snapshot: Snapshot { state.withLock { $0.snapshot } }

    /// Waits until more than `seen` bytes are written or the download finishes.
    public func waitForProgress(beyond seen: Int64) async -> Snapshot {
        while true {
            let current = snapshot
            if current.written > seen || current.outcome != nil { return current }
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { s -> Bool in
                    if s.snapshot.written > seen || s.snapshot.outcome != nil { return true }
                    s.waiters.append(c)
                    return false
                }
                if resumeNow { c.resume() }
            }
        }
    }

    /// Waits for the download to finish and returns how it ended.
    public func outcome() async -> Result<ArtifactMetadata, ProxyError> {
        var seen: Int64 = 0
        while true {
            let current = await waitForProgress(beyond: seen)
            if let outcome = current.outcome { return outcome }
            seen = current.written
        }
    }

    /// Waits until the verdict has been acted on: a verified zip committed to storage (or
    /// its commit failed), a failed one discarded.
    public func waitUntilSettled() async { await settled.wait() }

    func settle() { settled.fire() }

    func setExpectedLength(_ length: Int64?) {
        state.withLock { $0.snapshot.expectedLength = length }
    }

    func published(_ written: Int64) {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.snapshot.written = written
            defer { s.waiters = [] }
            return s.waiters
        }
        for w in waiters { w.resume() }
    }

    func finish(_ outcome: Result<ArtifactMetadata, ProxyError>) {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.snapshot.outcome = outcome
            defer { s.waiters = [] }
            return s.waiters
        }
        for w in waiters { w.resume() }
    }
}
