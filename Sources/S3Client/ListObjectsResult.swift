/// One page of a ListObjectsV2 answer: the keys with their sizes and ETags, and the token
/// for the next page. Listing goes on until `nextContinuationToken` is nil, so a module
/// with thousands of versions lists completely (S3 pages hold at most 1,000 keys).
public struct ListObjectsResult: Sendable, Equatable {
    public struct Object: Sendable, Equatable {
        public var key: String
        public var size: Int64
        public var etag: String
    }

    public var objects: [Object]
    public var isTruncated: Bool
    public var nextContinuationToken: String?

    public struct Malformed: Error, CustomStringConvertible {
        public let description: String
    }

    /// Reads the `ListBucketResult` document. Only the elements Warren uses are read;
    /// anything else (owners, storage classes, checksums) is skipped. A truncated page
    /// without a token is refused: following it would silently lose keys.
    public static func parse(_ bytes: [UInt8]) throws(Malformed) -> ListObjectsResult {
        var reader = SimpleXMLReader(bytes)
        var result = ListObjectsResult(objects: [], isTruncated: false, nextContinuationToken: nil)
        var current: Object?
        var sawRoot = false
        do {
            while let event = try reader.next() {
                switch event {
                case .open(let path):
                    if path == ["ListBucketResult"] { sawRoot = true }
                    if path == ["ListBucketResult", "Contents"] { current = Object(key: "", size: -1, etag: "") }
                case .text(let path, let text):
                    switch path {
                    case ["ListBucketResult", "IsTruncated"]: result.isTruncated = text == "true"
                    case ["ListBucketResult", "NextContinuationToken"]: result.nextContinuationToken = text
                    case ["ListBucketResult", "Contents", "Key"]: current?.key = text
                    case ["ListBucketResult", "Contents", "Size"]: current?.size = Int64(text) ?? -1
                    case ["ListBucketResult", "Contents", "ETag"]: current?.etag = text
                    default: break
                    }
                case .close(let path):
                    if path == ["ListBucketResult", "Contents"], let object = current {
                        guard !object.key.isEmpty, object.size >= 0 else {
                            throw Malformed(description: "a Contents entry without a key or size")
                        }
                        result.objects.append(object)
                        current = nil
                    }
                }
            }
        } catch let e as Malformed {
            throw e
        } catch {
            throw Malformed(description: "not an XML document: \(error)")
        }
        guard sawRoot else { throw Malformed(description: "no ListBucketResult element") }
        if result.isTruncated && (result.nextContinuationToken ?? "").isEmpty {
            throw Malformed(description: "a truncated listing without a continuation token")
        }
        return result
    }
}
