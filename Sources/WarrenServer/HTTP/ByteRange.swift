import GoModule

/// A single byte range from a `Range: bytes=…` header (RFC 9110 §14.1.2). The go command
/// resumes interrupted zip downloads with these.
struct ByteRange: Equatable {
    var start: Int64
    /// Inclusive.
    var end: Int64

    var length: Int64 { end - start + 1 }

    enum Parsed: Equatable {
        /// No usable Range header: serve the whole thing.
        case none
        case range(ByteRange)
        /// Syntactically fine but outside the content: 416.
        case unsatisfiable
    }

    /// Parses a Range header against a body of `size` bytes. Several ranges, other units
    /// and malformed headers are ignored (a server may always answer 200 in full).
    static func parse(_ header: String?, size: Int64) -> Parsed {
        guard let header, header.hasPrefix("bytes=") else { return .none }
        let spec = header.dropFirst("bytes=".count).trimmingSpaces()
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return .none }
        let first = spec[..<dash], last = spec[spec.index(after: dash)...]
        if first.isEmpty {
            // Suffix range: the last N bytes.
            guard let n = Int64(last), n >= 0 else { return .none }
            if n == 0 || size == 0 { return .unsatisfiable }
            return .range(ByteRange(start: max(0, size - n), end: size - 1))
        }
        guard let start = Int64(first), start >= 0 else { return .none }
        var end = size - 1
        if !last.isEmpty {
            guard let e = Int64(last), e >= start else { return .none }
            end = min(e, size - 1)
        }
        if start >= size { return .unsatisfiable }
        return .range(ByteRange(start: start, end: end))
    }
}
