/// Go's `%q` quoting (strconv.Quote / QuoteRune), so that Warren's error messages read
/// exactly like the go command's and a developer can paste them into a search.
public enum GoQuote {
    /// Quotes a byte string the way `strconv.Quote` does: printable runes stay, everything
    /// else (and invalid UTF-8, byte by byte) becomes an escape.
    public static func string(_ bytes: some Collection<UInt8>) -> String {
        var out = "\""
        var it = Array(bytes)[...]
        while let first = it.first {
            if let (scalar, len) = decodeScalar(it) {
                appendEscaped(scalar, quote: "\"", into: &out)
                it = it.dropFirst(len)
            } else {
                out += "\\x" + hex(UInt32(first), width: 2)
                it = it.dropFirst()
            }
        }
        return out + "\""
    }

    public static func string(_ s: String) -> String { string(s.utf8) }

    /// Quotes one rune the way `strconv.QuoteRune` does (`'\''`, `'\x00'`, `'é'`).
    public static func rune(_ scalar: Unicode.Scalar) -> String {
        var out = "'"
        appendEscaped(scalar, quote: "'", into: &out)
        return out + "'"
    }

    /// Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.
    public static func isPrint(_ s: Unicode.Scalar) -> Bool {
        if s == " " { return true }
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .nonspacingMark, .spacingMark, .enclosingMark,
             .decimalNumber, .letterNumber, .otherNumber,
             .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation,
             .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
            return true
        default:
            return false
        }
    }

    private static func appendEscaped(_ s: Unicode.Scalar, quote: Character, into out: inout String) {
        if Character(s) == quote || s == "\\" {
            out += "\\" + String(s)
            return
        }
        if isPrint(s) {
            out.unicodeScalars.append(s)
            return
        }
        switch s {
        case "\u{07}": out += "\\a"
        case "\u{08}": out += "\\b"
        case "\u{0C}": out += "\\f"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case "\u{0B}": out += "\\v"
        default:
            if s.value < 0x20 || s.value == 0x7F {
                out += "\\x" + hex(s.value, width: 2)
            } else if s.value < 0x10000 {
                out += "\\u" + hex(s.value, width: 4)
            } else {
                out += "\\U" + hex(s.value, width: 8)
            }
        }
    }

    private static func hex(_ v: UInt32, width: Int) -> String {
        let digits = String(v, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// Decodes one UTF-8 scalar at the start of `bytes`, or nil when the bytes there are
    /// not valid UTF-8.
    static func decodeScalar(_ bytes: ArraySlice<UInt8>) -> (Unicode.Scalar, Int)? {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        switch decoder.decode(&iterator) {
        case .scalarValue(let s):
            return (s, UTF8.width(s))
        default:
            return nil
        }
    }
}
