/// Why a request could not be answered: a kind (what went wrong, in the engine's terms),
/// one short line of plain text for the client, and detail for the log that the client
/// never sees (upstream bodies, file paths). The HTTP layer turns the kind into a status.
public struct ProxyError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        /// The request itself is malformed or outside the protocol's limits.
        case badRequest
        /// Refused by policy: a checksum mismatch, a private module's name kept from a
        /// checksum database, an upstream that refused.
        case forbidden
        /// The module or version does not exist (anywhere Warren may look).
        case notFound
        /// It existed and is gone for good (an upstream's 410).
        case gone
        /// An upstream or checksum database failed or sent something invalid.
        case upstreamFailed
        /// An upstream did not answer in time.
        case upstreamTimedOut
        /// Warren's own fault (storage, staging files).
        case internalFailure
        /// A service Warren depends on (object storage, the database) cannot be reached
        /// now; it is worth retrying later.
        case unavailable
        /// What was sent contradicts what is already kept for good: a published version
        /// sent again with other bytes.
        case conflict
        /// What was sent is larger than Warren accepts.
        case tooLarge
        /// Refused by the supply-chain policy (a rule or a known vulnerability), before
        /// anything was fetched.
        case policyDenied
    }

    public let kind: Kind
    /// One line, safe to show a client: no secrets, no local paths.
    public let message: String
    /// More context for the server log.
    public let detail: String?

    public init(_ kind: Kind, _ message: String, detail: String? = nil) {
        self.kind = kind
        // One line, always: upstream text may contain anything.
        self.message = ProxyError.oneLine(message)
        self.detail = detail
    }

    public var description: String { "\(kind.rawValue): \(message)" }

    public static func badRequest(_ m: String) -> ProxyError { .init(.badRequest, m) }
    public static func forbidden(_ m: String) -> ProxyError { .init(.forbidden, m) }
    public static func notFound(_ m: String, gone: Bool = false) -> ProxyError { .init(gone ? .gone : .notFound, m) }
    public static func upstreamFailed(_ m: String, detail: String? = nil) -> ProxyError { .init(.upstreamFailed, m, detail: detail) }
    public static func upstreamTimedOut(_ m: String) -> ProxyError { .init(.upstreamTimedOut, m) }
    public static func internalError(_ m: String, detail: String? = nil) -> ProxyError { .init(.internalFailure, m, detail: detail) }
    public static func unavailable(_ m: String, detail: String? = nil) -> ProxyError { .init(.unavailable, m, detail: detail) }
    public static func conflict(_ m: String) -> ProxyError { .init(.conflict, m) }
    public static func tooLarge(_ m: String) -> ProxyError { .init(.tooLarge, m) }
    public static func policyDenied(_ m: String) -> ProxyError { .init(.policyDenied, m) }

    public var isNotFound: Bool { kind == .notFound || kind == .gone }

    /// Whether the fault is Warren's or an upstream's rather than the request's (logged
    /// as a warning).
    public var isServerSide: Bool {
        switch kind {
        case .upstreamFailed, .upstreamTimedOut, .internalFailure, .unavailable: return true
        case .badRequest, .forbidden, .notFound, .gone, .conflict, .tooLarge, .policyDenied: return false
        }
    }

    static func oneLine(_ s: String) -> String {
        let firstLine = s.split(whereSeparator: { $0.isNewline }).first.map(String.init) ?? ""
        let printable = firstLine.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }
        var out = String(String.UnicodeScalarView(printable))
        if out.count > 300 { out = String(out.prefix(300)) + "…" }
        return out
    }
}
