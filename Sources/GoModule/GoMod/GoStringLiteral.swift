/// Go string literals as they appear in go.mod (`"quoted"` with escapes, or `` `raw` ``).
enum GoStringLiteral {
    /// Unquotes a Go string literal; nil when it is malformed.
    static func unquote(_ literal: String) -> String? {
        let scalars = Array(literal.unicodeScalars)
        guard scalars.count >= 2, let q = scalars.first, q == scalars.last, q == "\"" || q == "`" else { return nil }
        let body = scalars[1..<(scalars.count - 1)]
        if q == "`" {
            guard !body.contains("`") else { return nil }
            var s = ""
            s.unicodeScalars.append(contentsOf: body.filter { $0 != "\r" })
            return s
        }
        var bytes: [UInt8] = []
        var i = body.startIndex
        func appendScalar(_ s: Unicode.Scalar) { bytes.append(contentsOf: Array(String(s).utf8)) }
        func hexValue(_ count: Int) -> UInt32? {
            guard i + count <= body.endIndex else { return nil }
            var v: UInt32 = 0
            for s in body[i..<(i + count)] {
                guard let d = Int(String(s), radix: 16) else { return nil }
                v = v * 16 + UInt32(d)
            }
            i += count
            return v
        }
        while i < body.endIndex {
            let c = body[i]
            i += 1
            if c == "\"" || c == "\n" { return nil }
            guard c == "\\" else { appendScalar(c); continue }
            guard i < body.endIndex else { return nil }
            let e = body[i]
            i += 1
            switch e {
            case "a": bytes.append(7)
            case "b": bytes.append(8)
            case "f": bytes.append(12)
            case "n": bytes.append(10)
            case "r": bytes.append(13)
            case "t": bytes.append(9)
            case "v": bytes.append(11)
            case "\\": bytes.append(UInt8(ascii: "\\"))
            case "\"": bytes.append(UInt8(ascii: "\""))
            case "x":
                guard let v = hexValue(2) else { return nil }
                bytes.append(UInt8(v))
            case "u", "U":
                guard let v = hexValue(e == "u" ? 4 : 8), let s = Unicode.Scalar(v) else { return nil }
                appendScalar(s)
            case "0"..."7":
                guard i + 2 <= body.endIndex else { return nil }
                var v = UInt32(e.value - 0x30)
                for s in body[i..<(i + 2)] {
                    guard ("0"..."7").contains(s) else { return nil }
                    v = v * 8 + (s.value - 0x30)
                }
                i += 2
                guard v <= 255 else { return nil }
                bytes.append(UInt8(v))
            default:
                return nil
            }
        }
        // Byte escapes may form invalid UTF-8; such a path is invalid anyway.
        return String(validating: bytes, as: UTF8.self)
    }
}
