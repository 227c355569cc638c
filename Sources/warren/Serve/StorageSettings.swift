import Foundation
import S3Client

/// `--storage`: where artifacts live. `dir` (the default) keeps today's layout under
/// `--data-dir`; `s3://BUCKET/PREFIX` puts them in an S3-compatible bucket shared by
/// several replicas, with a local tier under `--data-dir`.
enum StorageBackend: Equatable, CustomStringConvertible {
    case directory
    case s3(bucket: String, prefix: String)

    static func parse(_ value: String) throws -> StorageBackend {
        if value == "dir" || value == "disk" { return .directory }
        guard value.hasPrefix("s3://") else { throw ServeSettings.Problem(description: "want dir or s3://BUCKET/PREFIX") }
        let rest = value.dropFirst(5)
        let bucket = String(rest.prefix { $0 != "/" })
        guard S3Configuration.isValidBucketName(bucket) else {
            throw ServeSettings.Problem(description: "not a valid bucket name: \(bucket)")
        }
        var prefix = String(rest.dropFirst(bucket.count))
        while prefix.hasPrefix("/") { prefix.removeFirst() }
        guard !prefix.contains("//"), !prefix.split(separator: "/").contains(where: { $0 == "." || $0 == ".." }),
              !prefix.contains("?"), !prefix.contains("#") else {
            throw ServeSettings.Problem(description: "the prefix must be a plain path: \(prefix)")
        }
        return .s3(bucket: bucket, prefix: prefix)
    }

    var description: String {
        switch self {
        case .directory: return "dir"
        case .s3(let bucket, let prefix): return "s3://\(bucket)/\(prefix)"
        }
    }
}

/// The object storage settings: `--s3-endpoint`, `--s3-region`, `--s3-path-style`, and the
/// credentials (the standard `AWS_*` variables, or `s3-access-key-id` /
/// `s3-secret-access-key` / `s3-session-token` in the config file or `WARREN_*`).
struct S3Settings: Equatable {
    var endpoint: String?
    var region: String?
    /// nil: on when an endpoint is given, off for AWS itself.
    var pathStyle: Bool?
    var accessKeyID: String?
    var secretAccessKey: String?
    var sessionToken: String?
    /// How much of `--data-dir` the local tier in front of the bucket may use.
    var localCacheBytes: Int64 = 4 << 30
    /// Zips of at least this size are answered with a redirect to a presigned URL.
    var redirectOver: Int64?

    /// The client configuration for `bucket`; the environment's `AWS_*` variables are the
    /// fallback for anything not set explicitly.
    func configuration(bucket: String, environment: [String: String]) throws -> S3Configuration {
        let fromEnvironment = AWSCredentials.fromEnvironment(environment)
        guard let id = accessKeyID ?? fromEnvironment?.accessKeyID,
              let secret = secretAccessKey ?? fromEnvironment?.secretAccessKey else {
            throw ServeSettings.Problem(description: "object storage needs credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or s3-access-key-id and s3-secret-access-key in the config file)")
        }
        let token = sessionToken ?? (accessKeyID == nil ? fromEnvironment?.sessionToken : nil)
        let region = region ?? environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? "us-east-1"
        do {
            return try S3Configuration.make(endpoint: endpoint, region: region, bucket: bucket, pathStyle: pathStyle,
                                            credentials: AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: token))
        } catch {
            throw ServeSettings.Problem(description: error.description)
        }
    }
}

/// `--database`: where the metadata index lives. `sqlite` (the default: `index.sqlite` in
/// `--data-dir`), `sqlite:PATH`, or `postgres://USER:PASSWORD@HOST:PORT/DB` for replicas
/// that share one index.
enum DatabaseSetting: Equatable, CustomStringConvertible {
    case sqlite(path: String?)
    case postgres(url: String)

    static func parse(_ value: String) throws -> DatabaseSetting {
        if value == "sqlite" { return .sqlite(path: nil) }
        if value.hasPrefix("sqlite:") {
            let path = String(value.dropFirst(7))
            guard !path.isEmpty else { throw ServeSettings.Problem(description: "sqlite: needs a file path") }
            return .sqlite(path: (path as NSString).expandingTildeInPath)
        }
        if value.hasPrefix("postgres://") || value.hasPrefix("postgresql://") { return .postgres(url: value) }
        throw ServeSettings.Problem(description: "want sqlite, sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE")
    }

    /// As logged: no password.
    var description: String {
        switch self {
        case .sqlite(let path): return "sqlite \(path ?? "(in the data directory)")"
        case .postgres(let url):
            guard var parts = URLComponents(string: url) else { return "postgres" }
            parts.password = nil
            parts.query = nil
            return parts.string ?? "postgres"
        }
    }
}
