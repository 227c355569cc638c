import NIOHTTP1

/// What a HEAD or GET says about an object: its size, ETag and user metadata
/// (`x-amz-meta-*`, names lower-cased without the prefix).
public struct S3ObjectInfo: Sendable, Equatable {
    public var size: Int64
    public var etag: String
    public var metadata: [String: String]

    init(headers: HTTPHeaders, size: Int64) {
        self.size = size
        self.etag = headers.first(name: "etag") ?? ""
        var metadata: [String: String] = [:]
        for (name, value) in headers {
            let lower = name.lowercased()
            if lower.hasPrefix("x-amz-meta-") { metadata[String(lower.dropFirst(11))] = value }
        }
        self.metadata = metadata
    }
}
