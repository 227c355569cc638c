import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Single-object operations: PUT, GET (whole or a range, streamed), HEAD, DELETE.
extension S3Client {
    /// An object being read: what S3 said about it, and its body as it arrives.
    public struct ObjectStream: Sendable {
        public var info: S3ObjectInfo
        /// The first and last byte of a ranged read (206), else nil.
        public var range: ClosedRange<Int64>?
        public var body: HTTPClientResponse.Body
    }

    /// Stores `body` at `key` in one request, with `metadata` as `x-amz-meta-*` headers
    /// (names lower-case, values ASCII). With `ifAbsent`, an existing object is kept and
    /// the answer is false (`If-None-Match: *`, 412). Returns true when written.
    @discardableResult
    public func putObject(_ key: String, body: S3Body, contentType: String? = nil, metadata: [String: String] = [:],
                          ifAbsent: Bool = false) async throws(S3Error) -> Bool {
        var headers: [(name: String, value: String)] = [("Content-Length", String(body.length))]
        if let contentType { headers.append(("Content-Type", contentType)) }
        if ifAbsent { headers.append(("If-None-Match", "*")) }
        headers += Self.metadataHeaders(metadata)
        let response = try await send(.PUT, key: key, headers: headers, body: body,
                                      alsoAccepted: ifAbsent ? [412] : [], operation: "PUT \(key)")
        _ = await Self.collect(response.body, limit: 64 * 1024)
        return response.status.code != 412
    }

    /// Reads an object (or `range` of it) as it arrives; nil when there is none.
    public func getObject(_ key: String, range: ClosedRange<Int64>? = nil) async throws(S3Error) -> ObjectStream? {
        var headers: [(name: String, value: String)] = []
        if let range { headers.append(("Range", "bytes=\(range.lowerBound)-\(range.upperBound)")) }
        let response: HTTPClientResponse
        do {
            response = try await send(.GET, key: key, headers: headers, operation: "GET \(key)")
        } catch where error.status == 404 {
            return nil
        }
        let length = response.headers.first(name: "content-length").flatMap { Int64($0) } ?? -1
        var size = length
        var served: ClosedRange<Int64>?
        if response.status.code == 206, let contentRange = response.headers.first(name: "content-range") {
            // "bytes 0-99/1234": the whole object's size after the slash.
            let parts = contentRange.split(separator: "/")
            if parts.count == 2, let total = Int64(parts[1]) { size = total }
            let bounds = parts[0].split(separator: " ").last?.split(separator: "-") ?? []
            if bounds.count == 2, let first = Int64(bounds[0]), let last = Int64(bounds[1]), first <= last { served = first...last }
        }
        return ObjectStream(info: S3ObjectInfo(headers: response.headers, size: size), range: served, body: response.body)
    }

    /// An object read whole into memory, for small objects only; nil when there is none,
    /// an error when it is longer than `limit`.
    public func getSmallObject(_ key: String, limit: Int) async throws(S3Error) -> (bytes: [UInt8], info: S3ObjectInfo)? {
        guard let stream = try await getObject(key) else { return nil }
        guard stream.info.size <= Int64(limit) else {
            throw S3Error(kind: .malformed, message: "\(stream.info.size) bytes, more than \(limit)", operation: "GET \(key)")
        }
        guard let bytes = await Self.collect(stream.body, limit: limit) else {
            throw S3Error(kind: .malformed, message: "the body was cut short or too long", operation: "GET \(key)")
        }
        guard stream.info.size < 0 || Int64(bytes.count) == stream.info.size else {
            throw S3Error(kind: .malformed, message: "\(bytes.count) of \(stream.info.size) bytes arrived", operation: "GET \(key)")
        }
        return (bytes, stream.info)
    }

    /// What S3 knows about an object, or nil when there is none.
    public func headObject(_ key: String) async throws(S3Error) -> S3ObjectInfo? {
        let response: HTTPClientResponse
        do {
            response = try await send(.HEAD, key: key, operation: "HEAD \(key)")
        } catch where error.status == 404 {
            return nil
        }
        let size = response.headers.first(name: "content-length").flatMap { Int64($0) } ?? -1
        return S3ObjectInfo(headers: response.headers, size: size)
    }

    /// Deletes an object; deleting one that is not there is not an error.
    public func deleteObject(_ key: String) async throws(S3Error) {
        let response = try await send(.DELETE, key: key, alsoAccepted: [404], operation: "DELETE \(key)")
        _ = await Self.collect(response.body, limit: 64 * 1024)
    }

    /// Creates the bucket; one that exists and is ours already is fine.
    public func createBucket() async throws(S3Error) {
        let response = try await send(.PUT, key: "", alsoAccepted: [409], operation: "PUT bucket \(configuration.bucket)")
        let body = await Self.collect(response.body, limit: 64 * 1024) ?? []
        if response.status.code == 409, S3Error.parseBody(body).code != "BucketAlreadyOwnedByYou" {
            throw S3Error(kind: .status(409), code: S3Error.parseBody(body).code, message: "the bucket belongs to someone else",
                          operation: "PUT bucket \(configuration.bucket)")
        }
    }

    /// A URL that lets its holder GET `key` for `expires` seconds without credentials
    /// (for redirecting a client to the bucket).
    public func presignedGetURL(_ key: String, expires: Int, at date: Date = Date()) -> String {
        let path = configuration.path(forKey: key)
        let query = signer.presignedQuery(method: "GET", host: configuration.hostHeader, path: path, at: date, expires: expires)
        let encodedPath = SigV4Signer.Request(method: "GET", host: configuration.hostHeader, path: path, payloadHash: "").encodedPath
        return "\(configuration.scheme)://\(configuration.hostHeader)\(encodedPath)?\(query)"
    }

    static func metadataHeaders(_ metadata: [String: String]) -> [(name: String, value: String)] {
        metadata.sorted { $0.key < $1.key }.map { (name: "x-amz-meta-" + $0.key.lowercased(), value: $0.value) }
    }
}
