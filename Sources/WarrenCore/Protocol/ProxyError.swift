/// An error answered to a client: an HTTP status and one short line of plain text, plus
/// detail for the log that the client never sees (upstream bodies, file paths).
public struct ProxyError: Error, Sendable, Equatable, CustomStringConvertible {
    public let status: Int
    /// One line, safe to show a client: no secrets, no local paths.
    public let message: String
    /// More context for the server log.
    public let detail: String?

    public init(status: Int, _ message: String, detail: String? = nil) {
        self.status = status
        // One line, always: upstream text may contain anything.
        self.message = ProxyError.oneLine(message)
        self.detail = detail
    }

    public var description: String { "\(status) \(message)" }

    public static func badRequest(_ m: String) -> ProxyError { .init(status: 400, m) }
    public static func forbidden(_ m: String) -> ProxyError { .init(status: 403, m) }
    public static func notFound(_ m: String, gone: Bool = false) -> ProxyError { .init(status: gone ? 410 : 404, m) }
    public static func badGateway(_ m: String, detail: String? = nil) -> ProxyError { .init(status: 502, m, detail: detail) }
    public static func gatewayTimeout(_ m: String) -> ProxyError { .init(status: 504, m) }
    public static func internalError(_ m: String, detail: String? = nil) -> ProxyError { .init(status: 500, m, detail: detail) }

    public var isNotFound: Bool { status == 404 || status == 410 }

    static func oneLine(_ s: String) -> String {
        let firstLine = s.split(whereSeparator: { $0.isNewline }).first.map(String.init) ?? ""
        let printable = firstLine.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }
        var out = String(String.UnicodeScalarView(printable))
        if out.count > 300 { out = String(out.prefix(300)) + "…" }
        return out
    }
}
