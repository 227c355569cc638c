/// A reader for the small, flat XML documents S3 answers with (listings, errors,
/// multipart upload ids): elements, text and the five predefined entities, numeric
/// character references, and nothing else. No DTDs, no external entities, so a hostile
/// endpoint cannot make it fetch or expand anything; depth and size are bounded.
struct SimpleXMLReader {
    enum Event: Equatable {
        case open([String])
        /// The text directly inside the innermost open element, entities decoded.
        case text([String], String)
        case close([String])
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static let maxDepth = 32

    private let bytes: [UInt8]
    private var position = 0
    private var stack: [String] = []
    private var pendingClose: [String]?

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    mutating func next() throws(Failure) -> Event? {
        if let path = pendingClose {
            pendingClose = nil
            stack.removeLast()
            return .close(path)
        }
        while position < bytes.count {
            if bytes[position] == UInt8(ascii: "<") {
                if hasPrefix("<?") { try skip(past: "?>"); continue }
                if hasPrefix("<!--") { try skip(past: "-->"); continue }
                if hasPrefix("<!") { throw Failure(description: "declarations are not accepted") }
                if hasPrefix("</") {
                    position += 2
                    let name = try readName()
                    skipSpaces()
                    try expect(">")
                    guard stack.last == name else { throw Failure(description: "</\(name)> does not close <\(stack.last ?? "")>") }
                    let path = stack
                    stack.removeLast()
                    return .close(path)
                }
                position += 1
                let name = try readName()
                try skipAttributes()
                let selfClosing = hasPrefix("/>")
                position += selfClosing ? 2 : 1
                guard stack.count < Self.maxDepth else { throw Failure(description: "nested too deeply") }
                stack.append(name)
                if selfClosing { pendingClose = stack }
                return .open(stack)
            }
            let start = position
            while position < bytes.count, bytes[position] != UInt8(ascii: "<") { position += 1 }
            let raw = bytes[start..<position]
            if stack.isEmpty {
                guard raw.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) else {
                    throw Failure(description: "text outside the document element")
                }
                continue
            }
            if raw.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { continue }
            return .text(stack, try Self.decode(raw))
        }
        guard stack.isEmpty else { throw Failure(description: "the document ends inside <\(stack.last ?? "")>") }
        return nil
    }

    private func hasPrefix(_ s: String) -> Bool {
        let p = Array(s.utf8)
        return position + p.count <= bytes.count && Array(bytes[position..<(position + p.count)]) == p
    }

    private mutating func expect(_ s: String) throws(Failure) {
        guard hasPrefix(s) else { throw Failure(description: "expected \(s) at byte \(position)") }
        position += s.utf8.count
    }

    private mutating func skip(past end: String) throws(Failure) {
        while position < bytes.count {
            if hasPrefix(end) { position += end.utf8.count; return }
            position += 1
        }
        throw Failure(description: "unterminated \(end)")
    }

    private mutating func skipSpaces() {
        while position < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[position]) { position += 1 }
    }

    private mutating func readName() throws(Failure) -> String {
        let start = position
        while position < bytes.count {
            let b = bytes[position]
            let isNameByte = (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
                || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: "-") || b == UInt8(ascii: "_")
                || b == UInt8(ascii: ".") || b == UInt8(ascii: ":")
            if !isNameByte { break }
            position += 1
        }
        guard position > start else { throw Failure(description: "an element without a name at byte \(start)") }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    /// Attributes (S3 sends only `xmlns`) are read past, quotes respected.
    private mutating func skipAttributes() throws(Failure) {
        while position < bytes.count {
            let b = bytes[position]
            if b == UInt8(ascii: ">") || hasPrefix("/>") { return }
            if b == UInt8(ascii: "\"") || b == UInt8(ascii: "'") {
                position += 1
                while position < bytes.count, bytes[position] != b { position += 1 }
                guard position < bytes.count else { break }
            } else if b == UInt8(ascii: "<") {
                throw Failure(description: "'<' inside a tag")
            }
            position += 1
        }
        throw Failure(description: "unterminated tag")
    }

    /// Text with `&amp;` `&lt;` `&gt;` `&quot;` `&apos;` and `&#N;` / `&#xH;` decoded.
    static func decode(_ raw: ArraySlice<UInt8>) throws(Failure) -> String {
        guard raw.contains(UInt8(ascii: "&")) else { return String(decoding: raw, as: UTF8.self) }
        var out: [UInt8] = []
        var i = raw.startIndex
        while i < raw.endIndex {
            guard raw[i] == UInt8(ascii: "&") else { out.append(raw[i]); i += 1; continue }
            guard let semicolon = raw[i...].firstIndex(of: UInt8(ascii: ";")), semicolon - i <= 10 else {
                throw Failure(description: "an unterminated entity")
            }
            let name = String(decoding: raw[(i + 1)..<semicolon], as: UTF8.self)
            switch name {
            case "amp": out.append(UInt8(ascii: "&"))
            case "lt": out.append(UInt8(ascii: "<"))
            case "gt": out.append(UInt8(ascii: ">"))
            case "quot": out.append(UInt8(ascii: "\""))
            case "apos": out.append(UInt8(ascii: "'"))
            default:
                let scalarValue: UInt32?
                if name.hasPrefix("#x") { scalarValue = UInt32(name.dropFirst(2), radix: 16) }
                else if name.hasPrefix("#") { scalarValue = UInt32(name.dropFirst(1)) }
                else { scalarValue = nil }
                guard let v = scalarValue, let scalar = Unicode.Scalar(v) else {
                    throw Failure(description: "an unknown entity &\(name);")
                }
                out.append(contentsOf: Array(String(Character(scalar)).utf8))
            }
            i = semicolon + 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}
