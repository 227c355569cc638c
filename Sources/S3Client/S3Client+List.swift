/// ListObjectsV2, page by page until S3 says there is no more: a prefix with thousands of
/// keys lists completely (each page holds at most 1,000).
extension S3Client {
    /// One page of keys under `prefix`, after `continuation` (the previous page's token).
    public func listObjectsPage(prefix: String, continuation: String? = nil, maxKeys: Int = 1000) async throws(S3Error) -> ListObjectsResult {
        var query: [(name: String, value: String)] = [("list-type", "2"), ("prefix", prefix), ("max-keys", String(maxKeys))]
        if let continuation { query.append(("continuation-token", continuation)) }
        let operation = "LIST \(prefix)"
        let response = try await send(.GET, key: "", query: query, operation: operation)
        let bytes = try await document(response, operation: operation)
        do {
            return try ListObjectsResult.parse(bytes)
        } catch {
            throw S3Error(kind: .malformed, message: error.description, operation: operation)
        }
    }

    /// Every key under `prefix`, following continuation tokens to the end.
    public func listAllObjects(prefix: String, pageSize: Int = 1000) async throws(S3Error) -> [ListObjectsResult.Object] {
        var all: [ListObjectsResult.Object] = []
        var token: String?
        repeat {
            let page = try await listObjectsPage(prefix: prefix, continuation: token, maxKeys: pageSize)
            all += page.objects
            token = page.isTruncated ? page.nextContinuationToken : nil
        } while token != nil
        return all
    }
}
