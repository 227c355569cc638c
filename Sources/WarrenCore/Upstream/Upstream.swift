import Foundation
import NIOCore

/// Why an upstream could not answer, classified the way the go command's GOPROXY
/// fall-through needs: only "not found" moves on after `,`; anything moves on after `|`.
public enum UpstreamFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// 404 or 410: the module or version does not exist there.
    case notFound(status: Int, message: String)
    /// The upstream refused (403 and other 4xx): a policy answer, passed on.
    case refused(status: Int, message: String)
    /// Anything else: connection errors, 5xx, truncated or malformed bodies.
    case failed(message: String)
    /// No answer within the configured time.
    case timedOut(message: String)
    /// `off` in the chain.
    case disabled

    public var isNotFound: Bool {
        if case .notFound = self { return true }
        return false
    }

    /// Transient faults worth another attempt with backoff.
    var isRetryable: Bool {
        switch self {
        case .failed, .timedOut: return true
        default: return false
        }
    }

    public var description: String {
        switch self {
        case .notFound(let s, let m): return "\(s) \(m)"
        case .refused(let s, let m): return "\(s) \(m)"
        case .failed(let m): return m
        case .timedOut(let m): return m
        case .disabled: return "module lookup disabled by upstream list (off)"
        }
    }

    /// The metric label for this kind of failure.
    var kind: String {
        switch self {
        case .notFound: return "not_found"
        case .refused: return "refused"
        case .failed: return "failed"
        case .timedOut: return "timeout"
        case .disabled: return "off"
        }
    }
}

/// A response body arriving in chunks.
public struct UpstreamBody: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer
    let makeIterator: @Sendable () -> Iterator

    public init(_ makeIterator: @escaping @Sendable () -> Iterator) {
        self.makeIterator = makeIterator
    }

    public struct Iterator: AsyncIteratorProtocol {
        let nextChunk: () async throws -> ByteBuffer?
        public init(_ next: @escaping () async throws -> ByteBuffer?) { nextChunk = next }
        public mutating func next() async throws -> ByteBuffer? { try await nextChunk() }
    }

    public func makeAsyncIterator() -> Iterator { makeIterator() }
}

/// A successful upstream answer: its declared length (if any) and its body.
public struct UpstreamResponse: Sendable {
    public var contentLength: Int64?
    public var body: UpstreamBody
    /// Set by an upstream that built this zip in-process with GoModule's zip writer
    /// (direct mode): its `h1:` hash, known from building it, so the engine checks the
    /// zip's directory but does not inflate and hash every entry again.
    public var builtZipHash: String? = nil

    public init(contentLength: Int64?, body: UpstreamBody, builtZipHash: String? = nil) {
        self.contentLength = contentLength
        self.body = body
        self.builtZipHash = builtZipHash
    }
}

/// One source of module artifacts in GOPROXY layout: an HTTP(S) proxy, a `file://` tree,
/// or direct VCS access.
public protocol Upstream: Sendable {
    /// The name shown in logs and metrics (credentials redacted).
    var name: String { get }
    /// Starts fetching what `request` asks for; each upstream puts it in its own terms
    /// (an escaped GOPROXY path, `ProxyRequest.proxyPath`, or git operations). Fails with
    /// a classified `UpstreamFailure`.
    func fetch(_ request: ProxyRequest) async throws(UpstreamFailure) -> UpstreamResponse
}

extension UpstreamBody {
    /// Collects a small body, failing when it exceeds `limit` bytes.
    func collect(limit: Int, deadline: ContinuousClock.Instant? = nil) async throws(UpstreamFailure) -> [UInt8] {
        var out: [UInt8] = []
        do {
            for try await chunk in self {
                out.append(contentsOf: chunk.readableBytesView)
                if out.count > limit { throw UpstreamFailure.failed(message: "upstream response larger than \(limit) bytes") }
                if let deadline, ContinuousClock.now > deadline { throw UpstreamFailure.timedOut(message: "upstream response timed out") }
            }
        } catch let f as UpstreamFailure {
            throw f
        } catch {
            throw UpstreamFailure.classify(error)
        }
        return out
    }
}

extension UpstreamFailure {
    /// Maps a transport error to a failure kind without leaking internals to clients.
    static func classify(_ error: any Error) -> UpstreamFailure {
        if let f = error as? UpstreamFailure { return f }
        let text = String(describing: error)
        if text.localizedCaseInsensitiveContains("timeout") || text.localizedCaseInsensitiveContains("deadline") {
            return .timedOut(message: "upstream timed out")
        }
        if text.localizedCaseInsensitiveContains("connect") || text.localizedCaseInsensitiveContains("refused") {
            return .failed(message: "cannot connect to upstream")
        }
        return .failed(message: "upstream transfer failed")
    }
}
