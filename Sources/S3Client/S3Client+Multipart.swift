import Foundation
import NIOHTTP1

/// Multipart upload of large files: parts streamed from the file one at a time, the upload
/// completed only when every part is in (the object is invisible until then) and aborted
/// on any failure, so nothing half-written stays behind (or billed).
extension S3Client {
    /// An upload S3 still holds open: its key, id and when it began (ISO 8601 text).
    public struct OpenUpload: Sendable, Equatable {
        public var key: String
        public var uploadID: String
        public var initiated: String
    }

    /// Stores `length` bytes of the file at `path` as `key`: one PUT up to `partSize`, a
    /// multipart upload above it. The object appears whole or not at all.
    public func putFile(_ key: String, path: String, length: Int64, contentType: String? = nil,
                        metadata: [String: String] = [:], partSize: Int64 = 16 << 20) async throws(S3Error) {
        guard length > partSize else {
            try await putObject(key, body: .file(path: path, offset: 0, length: length), contentType: contentType, metadata: metadata)
            return
        }
        let uploadID = try await createMultipartUpload(key, contentType: contentType, metadata: metadata)
        do {
            var etags: [String] = []
            var offset: Int64 = 0
            while offset < length {
                let size = min(partSize, length - offset)
                etags.append(try await uploadPart(key, uploadID: uploadID, number: etags.count + 1,
                                                  body: .file(path: path, offset: offset, length: size)))
                offset += size
            }
            try await completeMultipartUpload(key, uploadID: uploadID, etags: etags)
        } catch {
            // Best effort: a failed abort leaves the upload to `abortStaleUploads`.
            try? await abortMultipartUpload(key, uploadID: uploadID)
            throw error
        }
    }

    public func createMultipartUpload(_ key: String, contentType: String? = nil, metadata: [String: String] = [:]) async throws(S3Error) -> String {
        var headers = Self.metadataHeaders(metadata)
        if let contentType { headers.append(("Content-Type", contentType)) }
        let operation = "CREATE UPLOAD \(key)"
        let response = try await send(.POST, key: key, query: [("uploads", "")], headers: headers, operation: operation)
        let bytes = try await document(response, operation: operation)
        var reader = SimpleXMLReader(bytes)
        while let event = try? reader.next() {
            if case .text(["InitiateMultipartUploadResult", "UploadId"], let id) = event, !id.isEmpty { return id }
        }
        throw S3Error(kind: .malformed, message: "no UploadId in the answer", operation: operation)
    }

    /// Sends part `number` (from 1) and returns its ETag, which completing needs.
    public func uploadPart(_ key: String, uploadID: String, number: Int, body: S3Body) async throws(S3Error) -> String {
        let operation = "PUT PART \(number) \(key)"
        let response = try await send(.PUT, key: key, query: [("partNumber", String(number)), ("uploadId", uploadID)],
                                      headers: [("Content-Length", String(body.length))], body: body, operation: operation)
        _ = await Self.collect(response.body, limit: 64 * 1024)
        guard let etag = response.headers.first(name: "etag"), !etag.isEmpty else {
            throw S3Error(kind: .malformed, message: "no ETag for the part", operation: operation)
        }
        return etag
    }

    /// Makes the parts the object. S3 may answer 200 and still fail (an `<Error>`
    /// document in the body), so the body is read.
    public func completeMultipartUpload(_ key: String, uploadID: String, etags: [String]) async throws(S3Error) {
        var xml = "<CompleteMultipartUpload>"
        for (index, etag) in etags.enumerated() {
            xml += "<Part><PartNumber>\(index + 1)</PartNumber><ETag>\(Self.xmlEscaped(etag))</ETag></Part>"
        }
        xml += "</CompleteMultipartUpload>"
        let operation = "COMPLETE UPLOAD \(key)"
        let response = try await send(.POST, key: key, query: [("uploadId", uploadID)],
                                      headers: [("Content-Type", "application/xml")], body: .bytes(Array(xml.utf8)),
                                      operation: operation)
        let bytes = try await document(response, operation: operation)
        let error = S3Error.parseBody(bytes)
        if let code = error.code {
            throw S3Error(kind: .status(Int(response.status.code)), code: code, message: error.message ?? "", operation: operation)
        }
    }

    /// Abandons an upload and frees its parts; an upload already gone is fine.
    public func abortMultipartUpload(_ key: String, uploadID: String) async throws(S3Error) {
        let response = try await send(.DELETE, key: key, query: [("uploadId", uploadID)], alsoAccepted: [404],
                                      operation: "ABORT UPLOAD \(key)")
        _ = await Self.collect(response.body, limit: 64 * 1024)
    }

    /// Every upload still open under `prefix` (paged to the end).
    public func listOpenUploads(prefix: String) async throws(S3Error) -> [OpenUpload] {
        var uploads: [OpenUpload] = []
        var keyMarker: String?, idMarker: String?
        let operation = "LIST UPLOADS \(prefix)"
        while true {
            var query: [(name: String, value: String)] = [("uploads", ""), ("prefix", prefix)]
            if let keyMarker { query.append(("key-marker", keyMarker)) }
            if let idMarker { query.append(("upload-id-marker", idMarker)) }
            let response = try await send(.GET, key: "", query: query, operation: operation)
            let bytes = try await document(response, operation: operation)
            var reader = SimpleXMLReader(bytes)
            var current = OpenUpload(key: "", uploadID: "", initiated: "")
            var truncated = false
            var nextKey: String?, nextID: String?
            while let event = try? reader.next() {
                switch event {
                case .text(["ListMultipartUploadsResult", "Upload", "Key"], let t): current.key = t
                case .text(["ListMultipartUploadsResult", "Upload", "UploadId"], let t): current.uploadID = t
                case .text(["ListMultipartUploadsResult", "Upload", "Initiated"], let t): current.initiated = t
                case .text(["ListMultipartUploadsResult", "IsTruncated"], let t): truncated = t == "true"
                case .text(["ListMultipartUploadsResult", "NextKeyMarker"], let t): nextKey = t
                case .text(["ListMultipartUploadsResult", "NextUploadIdMarker"], let t): nextID = t
                case .close(["ListMultipartUploadsResult", "Upload"]):
                    if !current.key.isEmpty, !current.uploadID.isEmpty { uploads.append(current) }
                    current = OpenUpload(key: "", uploadID: "", initiated: "")
                default: break
                }
            }
            guard truncated else { return uploads }
            guard let nextKey, nextKey != keyMarker || nextID != idMarker else {
                throw S3Error(kind: .malformed, message: "a truncated listing without a marker", operation: operation)
            }
            keyMarker = nextKey
            idMarker = nextID
        }
    }

    static func xmlEscaped(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}
