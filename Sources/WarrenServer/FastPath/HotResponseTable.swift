import HTTPTypes
import Metrics
import NIOCore
import NIOHTTP1
import Synchronization
import WarrenCore

/// Complete answers for cached immutable artifacts (`.info`, `.mod`, zips), by raw
/// request path, ready for `HotResponseHandler` to write without entering the
/// request/response machinery at all.
///
/// Only immutable artifacts that are in the engine's memory cache or stored whole on disk
/// get here, and only as a 200 to a plain GET: an immutable artifact's bytes and headers
/// never change, so the same path always deserves the same answer. Eviction is first in, first out: an
/// evicted answer costs one trip through the slow path, which puts it back.
public final class HotResponseTable: Sendable {
    /// Where an answer's body comes from.
    enum Body: Sendable {
        case bytes(ByteBuffer)
        /// A stored file, written whole and never changed again, sent with sendfile.
        case file(path: String, size: Int64)

        var length: Int64 {
            switch self {
            case .bytes(let b): return Int64(b.readableBytes)
            case .file(_, let size): return size
            }
        }
    }

    /// One ready answer.
    final class Entry: Sendable {
        /// Status and every header but Date, in the HTTP/1 encoder's own form.
        let head: HTTPResponseHead
        let body: Body
        /// The metrics label of the endpoint (`info`, `mod`, `zip`).
        let endpoint: String
        let metrics: RequestMetrics
        let cacheHits: Counter
        let cost: Int
        /// For a zip: the download to count each time it is answered.
        let download: DownloadMark?
        /// The module it belongs to, checked against the access rules on every answer
        /// (nil: not a module's answer; with access rules, such answers go the ordinary way).
        let module: String?
        /// The policy's version when it was allowed: after vulnerability records are
        /// reloaded, the answer is decided again the ordinary way.
        let policyVersion: Int

        init(head: HTTPResponseHead, body: Body, endpoint: String, download: DownloadMark? = nil, module: String? = nil, policyVersion: Int = 0) {
            self.head = head
            self.policyVersion = policyVersion
            self.module = module
            self.download = download
            self.body = body
            self.endpoint = endpoint
            self.metrics = RequestMetrics(endpoint: endpoint, status: 200)
            self.cacheHits = CacheMetrics.counter(endpoint, hit: true)
            if case .bytes(let b) = body { self.cost = b.readableBytes + 512 } else { self.cost = 512 }
        }
    }

    private struct State {
        var entries: [String: Entry] = [:]
        /// Insertion order, for eviction; `first` is the next candidate.
        var order: [String] = []
        var first = 0
        var total = 0
    }

    private let state = Mutex(State())
    let capacity: Int
    let serverName: String
    /// Requests answered from this table, so operators can see the fast path at work.
    let answers = MetricHandles.counter("warren_hot_path_answers_total", [])

    /// What the supply-chain policy currently decides (nil: no policy).
    let policy: ModulePolicy?

    /// - Parameter capacity: bytes to keep; 0 turns the fast path off.
    public init(capacity: Int, serverName: String, policy: ModulePolicy? = nil) {
        self.policy = policy
        self.capacity = capacity
        self.serverName = serverName
    }

    func get(_ rawPath: String) -> Entry? {
        guard let entry = state.withLock({ $0.entries[rawPath] }) else { return nil }
        if let policy, entry.policyVersion != policy.version { return nil }
        return entry
    }

    /// Drops an answer that can no longer be given (its file is gone).
    func forget(_ rawPath: String) {
        state.withLock { s in
            if let gone = s.entries.removeValue(forKey: rawPath) { s.total -= gone.cost }
        }
    }

    /// Remembers what the slow path answered, if it can be replayed: an immutable
    /// artifact, in memory or stored whole, answered with a 200 and its full body.
    func remember(rawPath: String, served: ServedArtifact, headers: HTTPFields, endpoint: String, download: DownloadMark? = nil,
                  module: String? = nil) {
        guard capacity > 0, served.isImmutable else { return }
        let body: Body
        switch served.body {
        case .bytes(let b): body = .bytes(b)
        case .file(let file, let size): body = .file(path: file.path, size: size)
        case .download: return
        }
        var fields = headers
        fields[ProxyResponder.cacheHeader] = ServedArtifact.CacheStatus.hit.rawValue
        fields[.contentLength] = String(body.length)
        fields[.server] = serverName
        fields[.date] = nil
        var head = HTTPResponseHead(version: .http1_1, status: .ok)
        for field in fields { head.headers.add(name: field.name.rawName, value: field.value) }
        let entry = Entry(head: head, body: body, endpoint: endpoint, download: download, module: module, policyVersion: policy?.version ?? 0)
        guard entry.cost <= capacity / 8 else { return }
        state.withLock { s in
            if let old = s.entries.updateValue(entry, forKey: rawPath) {
                s.total -= old.cost
            } else {
                s.order.append(rawPath)
            }
            s.total += entry.cost
            while s.total > capacity, s.first < s.order.count {
                let victim = s.order[s.first]
                s.first += 1
                if let gone = s.entries.removeValue(forKey: victim) { s.total -= gone.cost }
            }
            if s.first > 1024, s.first * 2 > s.order.count {
                s.order.removeFirst(s.first)
                s.first = 0
            }
        }
    }
}
