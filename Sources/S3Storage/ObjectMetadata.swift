import Foundation
import WarrenCore

/// `ArtifactMetadata` as S3 user metadata (`x-amz-meta-warren-*` headers). Header values
/// must be plain ASCII, so the origin (an upstream's display name) is percent-encoded.
enum ObjectMetadata {
    static let hash = "warren-hash"
    static let storedAt = "warren-stored-at"
    static let origin = "warren-origin"

    static func encode(_ metadata: ArtifactMetadata) -> [String: String] {
        var out = [hash: metadata.hash, storedAt: String(metadata.storedAt)]
        if let o = metadata.origin { out[origin] = percentEncoded(o) }
        return out
    }

    /// The metadata of an object of `size` bytes, or nil when it was not written by Warren.
    static func decode(_ headers: [String: String], size: Int64) -> ArtifactMetadata? {
        guard size >= 0, let h = headers[hash], !h.isEmpty, let t = headers[storedAt].flatMap(Double.init) else { return nil }
        return ArtifactMetadata(size: size, hash: h, storedAt: t, origin: headers[origin].map { $0.removingPercentEncoding ?? $0 })
    }

    static func percentEncoded(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)...Unicode.Scalar(127)))
        allowed.insert(charactersIn: "-._~:/@+!$,;=()[]")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }
}
