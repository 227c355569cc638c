/// A string as a JSON string literal (RFC 8259): quotes and backslashes escaped, control
/// characters as `\u00XX`, everything else as it is. One escaper for every JSON Warren
/// writes by hand (the feeds, the access log), where a full encoder would cost more than
/// the line.
public enum JSONString {
    static let hex = Array("0123456789abcdef".utf8)

    /// Appends `"value"` to `out`.
    public static func append(_ value: String, to out: inout [UInt8]) {
        out.append(0x22)
        for b in value.utf8 {
            switch b {
            case 0x22: out.append(contentsOf: [0x5C, 0x22])
            case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
            case 0..<0x20, 0x7F:
                out.append(contentsOf: [0x5C, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(b >> 4)], hex[Int(b & 0xF)]])
            default: out.append(b)
            }
        }
        out.append(0x22)
    }

    /// `"value"` as a String.
    public static func quoted(_ value: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(value.utf8.count + 2)
        append(value, to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
