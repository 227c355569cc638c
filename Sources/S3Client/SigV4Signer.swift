import Crypto
import Foundation

/// AWS Signature Version 4 for one service in one region: what every S3-compatible
/// service (AWS, MinIO, Ceph RGW, OSS, COS, Kodo) checks on each request.
///
/// The signer sees the request as the client will send it — method, host, the path and
/// query before encoding, headers, the payload's SHA-256 — and returns the headers to add.
/// It is pure (the time is an argument), so AWS's published examples pin it exactly.
public struct SigV4Signer: Sendable {
    public let credentials: AWSCredentials
    public let region: String
    public let service: String

    public init(credentials: AWSCredentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// A request to sign. `path` and `query` are not yet percent-encoded.
    public struct Request: Sendable {
        public var method: String
        public var host: String
        public var path: String
        public var query: [(name: String, value: String)]
        public var headers: [(name: String, value: String)]
        /// Lower-case hex SHA-256 of the body, or `UNSIGNED-PAYLOAD`.
        public var payloadHash: String

        public init(method: String, host: String, path: String, query: [(name: String, value: String)] = [],
                    headers: [(name: String, value: String)] = [], payloadHash: String) {
            self.method = method
            self.host = host
            self.path = path
            self.query = query
            self.headers = headers
            self.payloadHash = payloadHash
        }

        /// The path as it goes on the wire (and into the signature).
        public var encodedPath: String {
            let p = path.hasPrefix("/") ? path : "/" + path
            return SigV4URIEncoding.encodePath(p)
        }

        /// The query as it goes on the wire: sorted and encoded, as the signature has it.
        public var encodedQuery: String {
            let encoded: [(name: String, value: String)] = query.map { item in
                (name: SigV4URIEncoding.encode(item.name), value: SigV4URIEncoding.encode(item.value))
            }
            let sorted = encoded.sorted { a, b in a.name != b.name ? a.name < b.name : a.value < b.value }
            return sorted.map { item in item.name + "=" + item.value }.joined(separator: "&")
        }
    }

    /// The SHA-256 of an empty body, the payload hash of every GET, HEAD and DELETE.
    public static let emptyPayloadHash = hex(SHA256.hash(data: [UInt8]()))

    /// The headers to send with `request` at `date`: `x-amz-date`, `x-amz-content-sha256`
    /// when `signContentHash` (S3 requires it; the generic test suite has none),
    /// `x-amz-security-token` for temporary credentials, and `Authorization`.
    public func sign(_ request: Request, at date: Date, signContentHash: Bool = true) -> [(name: String, value: String)] {
        let (amzDate, day) = Self.timestamps(date)
        var added: [(name: String, value: String)] = [("x-amz-date", amzDate)]
        if signContentHash { added.append(("x-amz-content-sha256", request.payloadHash)) }
        if let token = credentials.sessionToken { added.append(("x-amz-security-token", token)) }

        let canonical = canonicalRequest(request, extraHeaders: added)
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = "AWS4-HMAC-SHA256\n\(amzDate)\n\(scope)\n" + Self.hex(SHA256.hash(data: Array(canonical.text.utf8)))
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: signingKey(day: day)))
        added.append(("Authorization", "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), "
            + "SignedHeaders=\(canonical.signedHeaders), Signature=\(signature)"))
        return added
    }

    /// A presigned URL's query (already encoded, to append after `?`): anyone holding the
    /// URL may make exactly this request until `expires` seconds after `date`. Only the
    /// host header is signed and the payload is `UNSIGNED-PAYLOAD`, as S3 requires for
    /// query-string authentication.
    public func presignedQuery(method: String, host: String, path: String, at date: Date, expires: Int) -> String {
        let (amzDate, day) = Self.timestamps(date)
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        var query: [(name: String, value: String)] = [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("X-Amz-Credential", "\(credentials.accessKeyID)/\(scope)"),
            ("X-Amz-Date", amzDate),
            ("X-Amz-Expires", String(expires)),
            ("X-Amz-SignedHeaders", "host"),
        ]
        if let token = credentials.sessionToken { query.append(("X-Amz-Security-Token", token)) }
        let request = Request(method: method, host: host, path: path, query: query, payloadHash: "UNSIGNED-PAYLOAD")
        let canonical = canonicalRequest(request, extraHeaders: [])
        let stringToSign = "AWS4-HMAC-SHA256\n\(amzDate)\n\(scope)\n" + Self.hex(SHA256.hash(data: Array(canonical.text.utf8)))
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: signingKey(day: day)))
        return request.encodedQuery + "&X-Amz-Signature=" + signature
    }

    /// The canonical request and its signed-header list (exposed for tests).
    func canonicalRequest(_ request: Request, extraHeaders: [(name: String, value: String)]) -> (text: String, signedHeaders: String) {
        var byName: [String: [String]] = [:]
        for (name, value) in [("host", request.host)] + request.headers + extraHeaders {
            byName[name.lowercased(), default: []].append(Self.trimmed(value))
        }
        let names = byName.keys.sorted()
        let headerLines = names.map { "\($0):\(byName[$0, default: []].joined(separator: ","))\n" }.joined()
        let signedHeaders = names.joined(separator: ";")
        let text = [request.method, request.encodedPath, request.encodedQuery, headerLines, signedHeaders, request.payloadHash]
            .joined(separator: "\n")
        return (text, signedHeaders)
    }

    /// HMAC chain from the secret through day, region and service: the key for one day.
    func signingKey(day: String) -> SymmetricKey {
        func mac(_ key: SymmetricKey, _ data: String) -> SymmetricKey {
            SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(data.utf8), using: key)))
        }
        let secret = SymmetricKey(data: Array(("AWS4" + credentials.secretAccessKey).utf8))
        return mac(mac(mac(mac(secret, day), region), service), "aws4_request")
    }

    /// Header values as signed: outer spaces removed, runs of spaces made one.
    static func trimmed(_ value: String) -> String {
        value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            .trimmingCharacters(in: .whitespaces)
    }

    /// `yyyyMMdd'T'HHmmss'Z'` and `yyyyMMdd`, in UTC.
    static func timestamps(_ date: Date) -> (amzDate: String, day: String) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func two(_ n: Int?) -> String { let v = n ?? 0; return v < 10 ? "0\(v)" : "\(v)" }
        let day = "\(c.year ?? 1970)\(two(c.month))\(two(c.day))"
        return (day + "T" + two(c.hour) + two(c.minute) + two(c.second) + "Z", day)
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for b in digest {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
