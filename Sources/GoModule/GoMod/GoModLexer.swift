/// Splits go.mod text into tokens the way the go command's modfile lexer does, keeping
/// line and column (in runes, 1-based) so errors point at the right place.
struct GoModLexer {
    enum Kind: Equatable {
        case newline, lparen, rparen, lbrack, rbrack, lbrace, rbrace, comma
        case ident, string
        /// A `//` comment alone on its line.
        case comment
        /// A `//` comment after other tokens on the same line.
        case eolComment
        case eof
    }

    struct Token {
        var kind: Kind
        var text: String
        var line: Int
        var column: Int
    }

    private let scalars: [Unicode.Scalar]
    private var pos = 0
    private var line = 1
    private var column = 1
    /// Whether a non-space token has appeared on the current line (decides comment kinds).
    private var lineHasToken = false
    let fileName: String

    init(_ text: String, fileName: String) {
        self.scalars = Array(text.unicodeScalars)
        self.fileName = fileName
    }

    func error(_ message: String, line: Int, column: Int) -> GoModSyntaxError {
        GoModSyntaxError(file: fileName, line: line, column: column, message: message)
    }

    private mutating func advance() -> Unicode.Scalar {
        let s = scalars[pos]
        pos += 1
        if s == "\n" {
            line += 1
            column = 1
            lineHasToken = false
        } else {
            column += 1
        }
        return s
    }

    private func peek(_ offset: Int = 0) -> Unicode.Scalar? {
        pos + offset < scalars.count ? scalars[pos + offset] : nil
    }

    mutating func next() throws(GoModSyntaxError) -> Token {
        while let c = peek(), c == " " || c == "\t" || c == "\r" { _ = advance() }
        let startLine = line, startColumn = column
        guard let c = peek() else { return Token(kind: .eof, text: "", line: line, column: column) }

        if c == "/" && peek(1) == "/" {
            let suffix = lineHasToken
            var text = ""
            while let d = peek(), d != "\n" { text.unicodeScalars.append(advance()) }
            // Both kinds of comment swallow the newline that ends them, as modfile's do.
            if peek() == "\n" { _ = advance() }
            return Token(kind: suffix ? .eolComment : .comment, text: trimRight(text), line: startLine, column: startColumn)
        }
        if c == "/" && peek(1) == "*" {
            throw error("mod files must use // comments (not /* */ comments)", line: startLine, column: startColumn)
        }

        let singles: [Unicode.Scalar: Kind] = [
            "\n": .newline, "(": .lparen, ")": .rparen, "[": .lbrack, "]": .rbrack,
            "{": .lbrace, "}": .rbrace, ",": .comma,
        ]
        if let kind = singles[c] {
            _ = advance()
            if kind != .newline { lineHasToken = true }
            return Token(kind: kind, text: String(c), line: startLine, column: startColumn)
        }

        lineHasToken = true
        if c == "\"" || c == "`" {
            var text = String(advance())
            while true {
                guard let d = peek() else {
                    throw error("unexpected EOF in string", line: startLine, column: startColumn)
                }
                if d == "\n" { throw error("unexpected newline in string", line: line, column: column) }
                text.unicodeScalars.append(advance())
                if d == c { break }
                if d == "\\" && c != "`" {
                    guard peek() != nil else {
                        throw error("unexpected EOF in string", line: startLine, column: startColumn)
                    }
                    text.unicodeScalars.append(advance())
                }
            }
            return Token(kind: .string, text: text, line: startLine, column: startColumn)
        }

        guard Self.isIdent(c) else {
            throw error("unexpected input character \(GoQuote.rune(c))", line: startLine, column: startColumn)
        }
        var text = ""
        while let d = peek(), Self.isIdent(d) {
            if d == "/" && peek(1) == "/" { break }
            if d == "/" && peek(1) == "*" {
                throw error("mod files must use // comments (not /* */ comments)", line: line, column: column)
            }
            text.unicodeScalars.append(advance())
        }
        return Token(kind: .ident, text: text, line: startLine, column: startColumn)
    }

    static func isIdent(_ c: Unicode.Scalar) -> Bool {
        switch c {
        case " ", "(", ")", "[", "]", "{", "}", ",": return false
        default: return !c.properties.isWhitespace && GoQuote.isPrint(c)
        }
    }

    private func trimRight(_ s: String) -> String {
        var scalars = Array(s.unicodeScalars)
        while let last = scalars.last, last.properties.isWhitespace { scalars.removeLast() }
        var out = ""
        out.unicodeScalars.append(contentsOf: scalars)
        return out
    }
}
