/// Percent-encoding as Signature Version 4 defines it: every byte except the unreserved
/// characters `A–Z a–z 0–9 - . _ ~` becomes `%XX` with upper-case hex. The same bytes must
/// be encoded the same way in the URL sent and in the canonical request, or the service
/// computes another signature; so both come from here.
enum SigV4URIEncoding {
    private static let hex = Array("0123456789ABCDEF".utf8)

    /// Encodes one query name or value, or one path segment (`/` encoded too).
    static func encode(_ s: String) -> String {
        encode(s, keepingSlash: false)
    }

    /// Encodes an object key or path, keeping `/` between its segments (S3 signs the path
    /// encoded once, not twice as other services do).
    static func encodePath(_ s: String) -> String {
        encode(s, keepingSlash: true)
    }

    private static func encode(_ s: String, keepingSlash: Bool) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(b)
            case UInt8(ascii: "/") where keepingSlash:
                out.append(b)
            default:
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 0x0F)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
