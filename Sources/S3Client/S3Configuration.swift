/// Where a bucket lives and how to reach it: any S3-compatible service (AWS, MinIO, Ceph
/// RGW, Aliyun OSS, Tencent COS, Qiniu Kodo) through its endpoint URL.
public struct S3Configuration: Sendable {
    /// `http` or `https`.
    public var scheme: String
    /// The endpoint's host (no bucket in it), and its port when not the scheme's default.
    public var host: String
    public var port: Int?
    public var region: String
    public var bucket: String
    /// Path-style addressing (`host/bucket/key`) rather than virtual-hosted
    /// (`bucket.host/key`). Most self-hosted services (RGW, MinIO) want path style.
    public var pathStyle: Bool
    public var credentials: AWSCredentials
    /// Per attempt: until the response head arrives.
    public var requestTimeout: Double
    /// How often a transient failure (connection error, 500, 503, SlowDown) is retried.
    public var retries: Int

    public init(scheme: String, host: String, port: Int?, region: String, bucket: String, pathStyle: Bool,
                credentials: AWSCredentials, requestTimeout: Double = 30, retries: Int = 2) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.region = region
        self.bucket = bucket
        self.pathStyle = pathStyle
        self.credentials = credentials
        self.requestTimeout = requestTimeout
        self.retries = retries
    }

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    /// A configuration from an endpoint URL such as `http://127.0.0.1:7480` (nil: AWS in
    /// `region`, virtual-hosted). Path style is the default whenever an endpoint is given.
    public static func make(endpoint: String?, region: String, bucket: String, pathStyle: Bool?,
                            credentials: AWSCredentials) throws(Invalid) -> S3Configuration {
        guard S3Configuration.isValidBucketName(bucket) else {
            throw Invalid(description: "not a valid bucket name: \(bucket)")
        }
        guard let endpoint else {
            return S3Configuration(scheme: "https", host: "s3.\(region).amazonaws.com", port: nil, region: region,
                                   bucket: bucket, pathStyle: pathStyle ?? false, credentials: credentials)
        }
        let schemeEnd = endpoint.range(of: "://")
        guard let schemeEnd else { throw Invalid(description: "the S3 endpoint needs http:// or https://: \(endpoint)") }
        let scheme = endpoint[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else {
            throw Invalid(description: "the S3 endpoint needs http:// or https://: \(endpoint)")
        }
        var authority = endpoint[schemeEnd.upperBound...]
        if let slash = authority.firstIndex(of: "/") {
            guard authority[slash...].allSatisfy({ $0 == "/" }) else {
                throw Invalid(description: "the S3 endpoint must not have a path: \(endpoint)")
            }
            authority = authority[..<slash]
        }
        guard !authority.contains("@") else { throw Invalid(description: "put S3 credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, not in the endpoint") }
        var host = String(authority)
        var port: Int?
        if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") {
            guard let p = Int(authority[authority.index(after: colon)...]), (1...65535).contains(p) else {
                throw Invalid(description: "not a valid port in the S3 endpoint: \(endpoint)")
            }
            port = p
            host = String(authority[..<colon])
        }
        guard !host.isEmpty else { throw Invalid(description: "no host in the S3 endpoint: \(endpoint)") }
        if (scheme == "http" && port == 80) || (scheme == "https" && port == 443) { port = nil }
        return S3Configuration(scheme: scheme, host: host, port: port, region: region, bucket: bucket,
                               pathStyle: pathStyle ?? true, credentials: credentials)
    }

    /// S3's bucket naming rules (3–63 characters; lower-case letters, digits, dots and
    /// hyphens; starting and ending with a letter or digit).
    public static func isValidBucketName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (3...63).contains(bytes.count) else { return false }
        func alnum(_ b: UInt8) -> Bool { (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) }
        guard let first = bytes.first, let last = bytes.last, alnum(first), alnum(last) else { return false }
        return bytes.allSatisfy { alnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") }
    }

    /// The Host header (and what is signed): with the bucket for virtual-hosted style.
    var hostHeader: String {
        let base = port.map { "\(host):\($0)" } ?? host
        return pathStyle ? base : "\(bucket).\(base)"
    }

    /// The unencoded path of an object key (or of the bucket, for an empty key).
    func path(forKey key: String) -> String {
        pathStyle ? "/\(bucket)/\(key)" : "/\(key)"
    }

    /// The endpoint as it may be shown (no credentials are ever part of it).
    public var displayName: String { "\(scheme)://\(hostHeader)" + (pathStyle ? "/\(bucket)" : "") }
}
