/// Standard base64 (RFC 4648 §4, with padding), strict: the checksum database's keys,
/// signatures and hashes are all in this form, and anything else is malformed.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = UInt8(i) }
        return table
    }()

    static func decode(_ text: Substring) -> [UInt8]? {
        let bytes = Array(text.utf8)
        guard bytes.count % 4 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count / 4 * 3)
        var i = 0
        while i < bytes.count {
            let last = i + 4 == bytes.count
            var quad: [UInt8] = []
            var padding = 0
            for c in bytes[i..<(i + 4)] {
                if c == UInt8(ascii: "=") {
                    padding += 1
                    quad.append(0)
                } else {
                    // Padding only at the very end.
                    guard padding == 0, values[Int(c)] != 0xFF else { return nil }
                    quad.append(values[Int(c)])
                }
            }
            guard padding <= 2, padding == 0 || last else { return nil }
            let n = UInt32(quad[0]) << 18 | UInt32(quad[1]) << 12 | UInt32(quad[2]) << 6 | UInt32(quad[3])
            let three = [UInt8(n >> 16), UInt8(truncatingIfNeeded: n >> 8), UInt8(truncatingIfNeeded: n)]
            // Bits under the padding must be zero (canonical encoding).
            if padding == 2 && three[1] != 0 || padding == 1 && three[2] != 0 { return nil }
            out.append(contentsOf: three[..<(3 - padding)])
            i += 4
        }
        return out
    }

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let chunk = bytes[i..<min(i + 3, bytes.count)]
            var n = UInt32(0)
            for (k, b) in chunk.enumerated() { n |= UInt32(b) << (16 - 8 * k) }
            for k in 0..<4 {
                out.append(k <= chunk.count ? alphabet[Int((n >> (18 - 6 * k)) & 63)] : UInt8(ascii: "="))
            }
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
