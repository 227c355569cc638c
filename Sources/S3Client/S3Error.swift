/// A failed S3 request: the HTTP status and S3's own error code and message (from the XML
/// error body), or a transport failure. Never holds a credential or a signature: the
/// request's headers are not part of it, and S3 error bodies name neither.
public struct S3Error: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The service answered with an error status.
        case status(Int)
        /// No answer: connection refused or reset, DNS, TLS.
        case unreachable
        /// No answer within the request timeout.
        case timedOut
        /// The answer could not be read (bad XML, a body that ended early).
        case malformed
    }

    public var kind: Kind
    /// S3's error code (`NoSuchKey`, `SlowDown`, `SignatureDoesNotMatch`, …), when given.
    public var code: String?
    public var message: String
    /// What was being done, e.g. "PUT modules/x/@v/v1.0.0.zip".
    public var operation: String

    public init(kind: Kind, code: String? = nil, message: String, operation: String) {
        self.kind = kind
        self.code = code
        self.message = message
        self.operation = operation
    }

    public var status: Int? {
        if case .status(let s) = kind { return s }
        return nil
    }

    /// Worth another attempt: the service is overloaded or briefly unavailable.
    public var isTransient: Bool {
        switch kind {
        case .unreachable, .timedOut: return true
        case .malformed: return false
        case .status(let s): return s == 500 || s == 502 || s == 503 || s == 504 || code == "SlowDown" || code == "RequestTimeout"
        }
    }

    public var description: String {
        let what: String
        switch kind {
        case .status(let s): what = "\(s)" + (code.map { " \($0)" } ?? "")
        case .unreachable: what = "unreachable"
        case .timedOut: what = "timed out"
        case .malformed: what = "malformed answer"
        }
        return "S3 \(operation): \(what)" + (message.isEmpty ? "" : ": \(message)")
    }

    /// Reads S3's `<Error><Code>…</Code><Message>…</Message></Error>` document.
    static func parseBody(_ bytes: [UInt8]) -> (code: String?, message: String?) {
        var reader = SimpleXMLReader(bytes)
        var code: String?, message: String?
        while let event = try? reader.next() {
            if case .text(let path, let text) = event {
                if path == ["Error", "Code"] { code = text }
                if path == ["Error", "Message"] { message = text }
            }
        }
        return (code, message.map { String($0.prefix(200)) })
    }
}
