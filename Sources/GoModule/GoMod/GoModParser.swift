/// Parses go.mod text into `GoModFile`.
///
/// Two modes, as in the go command: `strict` for a module's own go.mod (unknown
/// directives are errors) and lax for go.mod files of dependencies served by a proxy,
/// where directives newer than this parser must not make a module unusable.
public enum GoModParser {
    public static func parse(_ text: String, fileName: String = "go.mod", strict: Bool = false) throws(GoModSyntaxError) -> GoModFile {
        var lexer = GoModLexer(text, fileName: fileName)
        let statements = try readStatements(&lexer)
        var interpreter = Interpreter(fileName: fileName, strict: strict)
        for statement in statements {
            try interpreter.apply(statement)
        }
        return interpreter.file
    }

    /// Just the module path, or nil when the text declares none or does not parse.
    public static func modulePath(_ text: String) -> String? {
        (try? parse(text))?.modulePath
    }

    // MARK: - Syntax tree

    struct Line {
        var tokens: [GoModLexer.Token]
        /// Whole-line comments just above the line; "" marks a blank line inside a block.
        var before: [String] = []
        var suffix: [String] = []
        var number: Int { tokens.first?.line ?? 0 }
    }

    enum Statement {
        case line(Line)
        /// `verb (` … `)`: the header tokens (with the header's comments) and the lines.
        case block(header: Line, lines: [Line])
    }

    static func readStatements(_ lexer: inout GoModLexer) throws(GoModSyntaxError) -> [Statement] {
        var statements: [Statement] = []
        var pendingComments: [String] = []
        var lookahead = try lexer.next()
        func advance() throws(GoModSyntaxError) -> GoModLexer.Token {
            let t = lookahead
            lookahead = try lexer.next()
            return t
        }

        while true {
            switch lookahead.kind {
            case .eof:
                return statements
            case .newline:
                _ = try advance()
                pendingComments = []
            case .comment, .eolComment:
                pendingComments.append(try advance().text)
            default:
                var header = Line(tokens: [], before: pendingComments)
                pendingComments = []
                var isBlock = false
                lineLoop: while true {
                    let tok = try advance()
                    switch tok.kind {
                    case .newline, .eof:
                        if tok.kind == .eof { lookahead = tok }
                        break lineLoop
                    case .eolComment:
                        header.suffix.append(tok.text)
                        break lineLoop
                    case .lparen where [.newline, .eof, .eolComment].contains(lookahead.kind):
                        if lookahead.kind == .eolComment { header.suffix.append(try advance().text) }
                        else if lookahead.kind == .newline { _ = try advance() }
                        isBlock = true
                        break lineLoop
                    case .lparen where lookahead.kind == .rparen:
                        // `verb ( )` on one line is an empty block.
                        _ = try advance()
                        isBlock = true
                        let after = try advance()
                        if ![.newline, .eof, .eolComment].contains(after.kind) {
                            throw lexer.error("syntax error (expected newline after closing paren)", line: after.line, column: after.column)
                        }
                        statements.append(.block(header: header, lines: []))
                        header.tokens = []
                        break lineLoop
                    default:
                        header.tokens.append(tok)
                    }
                }
                if isBlock {
                    if header.tokens.isEmpty { continue }
                    let lines = try readBlock(&lexer, &lookahead, header: header)
                    statements.append(.block(header: header, lines: lines))
                } else if !header.tokens.isEmpty {
                    statements.append(.line(header))
                }
            }
        }
    }

    private static func readBlock(_ lexer: inout GoModLexer, _ lookahead: inout GoModLexer.Token, header: Line) throws(GoModSyntaxError) -> [Line] {
        var lines: [Line] = []
        var comments: [String] = []
        while true {
            let tok = lookahead
            switch tok.kind {
            case .eof:
                throw lexer.error("syntax error (unterminated block started at \(lexer.fileName):\(header.number):\(header.tokens.first?.column ?? 0))", line: tok.line, column: tok.column)
            case .eolComment:
                lookahead = try lexer.next()
            case .newline:
                lookahead = try lexer.next()
                if (comments.isEmpty && !lines.isEmpty) || (comments.last.map { !$0.isEmpty } ?? false) {
                    comments.append("")
                }
            case .comment:
                comments.append(tok.text)
                lookahead = try lexer.next()
            case .rparen:
                let after = try lexer.next()
                if ![.newline, .eof, .eolComment].contains(after.kind) {
                    throw lexer.error("syntax error (expected newline after closing paren)", line: after.line, column: after.column)
                }
                lookahead = after.kind == .eof ? after : try lexer.next()
                return lines
            default:
                var line = Line(tokens: [], before: comments)
                comments = []
                while true {
                    let t = lookahead
                    if t.kind == .eof { break }
                    lookahead = try lexer.next()
                    if t.kind == .newline { break }
                    if t.kind == .eolComment {
                        line.suffix.append(t.text)
                        break
                    }
                    if t.kind == .lparen || t.kind == .rparen {
                        throw lexer.error("syntax error (unexpected \(t.text) inside block)", line: t.line, column: t.column)
                    }
                    line.tokens.append(t)
                }
                lines.append(line)
            }
        }
    }

    // MARK: - Directives

    struct Interpreter {
        let fileName: String
        let strict: Bool
        var file = GoModFile()
        var sawModule = false
        var sawGo = false

        func fail(_ line: Line, _ message: String) -> GoModSyntaxError {
            let first = line.tokens.first
            return GoModSyntaxError(file: fileName, line: first?.line ?? 0, column: first?.column ?? 0, message: message)
        }

        mutating func apply(_ statement: Statement) throws(GoModSyntaxError) {
            switch statement {
            case .line(let line):
                guard let verb = line.tokens.first?.text else { return }
                try directive(verb: verb, args: Array(line.tokens.dropFirst()), line: line, block: nil)
            case .block(let header, let lines):
                guard let verb = header.tokens.first?.text else { return }
                if header.tokens.count > 1 {
                    throw fail(header, "unknown block type: \(header.tokens.map(\.text).joined(separator: " "))")
                }
                for line in lines {
                    try directive(verb: verb, args: line.tokens, line: line, block: header)
                }
            }
        }

        mutating func directive(verb: String, args: [GoModLexer.Token], line: Line, block: Line?) throws(GoModSyntaxError) {
            switch verb {
            case "module":
                if sawModule { throw fail(line, "repeated module statement") }
                sawModule = true
                guard args.count == 1 else { throw fail(line, "usage: module module/path") }
                file.modulePath = try unquote(args[0], line)
                let text = directiveComment(line, block)
                file.deprecated = deprecation(in: text)
            case "go":
                if sawGo { throw fail(line, "repeated go statement") }
                sawGo = true
                guard args.count == 1 else { throw fail(line, "go directive expects exactly one argument") }
                let v = args[0].text
                guard GoVersion.isValidGoDirective(v) else {
                    throw fail(line, "invalid go version '\(v)': must match format 1.23.0")
                }
                file.goVersion = v
            case "toolchain":
                guard args.count == 1 else { throw fail(line, "toolchain directive expects exactly one argument") }
                file.toolchain = args[0].text
            case "require", "exclude":
                guard args.count == 2 else { throw fail(line, "usage: \(verb) module/path v1.2.3") }
                let path = try unquote(args[0], line)
                let version = try canonicalVersion(try unquote(args[1], line), verb: verb, line)
                let indirect = line.suffix.contains { $0.hasPrefix("//") && $0.dropFirst(2).trimmingSpaces() .hasPrefix("indirect") }
                let req = GoModFile.Requirement(path: path, version: version, indirect: indirect)
                if verb == "require" { file.requirements.append(req) } else { file.excludes.append(req) }
            case "retract":
                let rationale = directiveComment(line, block)
                let (low, high) = try versionInterval(args, line)
                file.retractions.append(GoModFile.Retraction(low: low, high: high, rationale: rationale))
            case "replace":
                // old [v] => new [v]
                guard let arrow = args.firstIndex(where: { $0.text == "=>" }), (1...2).contains(arrow), (1...2).contains(args.count - arrow - 1) else {
                    throw fail(line, "usage: replace module/path [v1.2.3] => other/module v1.4.5 or directory")
                }
                let oldPath = try unquote(args[0], line)
                let oldVersion = arrow == 2 ? try canonicalVersion(try unquote(args[1], line), verb: verb, line) : nil
                let newPath = try unquote(args[arrow + 1], line)
                let newVersion = args.count - arrow - 1 == 2 ? try canonicalVersion(try unquote(args[arrow + 2], line), verb: verb, line) : nil
                file.replacements.append(GoModFile.Replacement(oldPath: oldPath, oldVersion: oldVersion, newPath: newPath, newVersion: newVersion))
            case "godebug", "tool", "ignore":
                // Accepted; their content does not affect what a proxy serves.
                guard !args.isEmpty else { throw fail(line, "usage: \(verb) ...") }
            default:
                if strict { throw fail(line, "unknown directive: \(verb)") }
            }
        }

        func unquote(_ tok: GoModLexer.Token, _ line: Line) throws(GoModSyntaxError) -> String {
            guard tok.kind == .string else { return tok.text }
            guard let s = GoStringLiteral.unquote(tok.text) else {
                throw GoModSyntaxError(file: fileName, line: tok.line, column: tok.column, message: "invalid quoted string: \(tok.text)")
            }
            return s
        }

        func canonicalVersion(_ v: String, verb: String, _ line: Line) throws(GoModSyntaxError) -> String {
            let c = ModuleVersion.canonical(v)
            if c.isEmpty {
                throw fail(line, "\(verb) \(InvalidVersionError(version: v, reason: "must be of the form v1.2.3"))")
            }
            if strict && c != v {
                throw fail(line, "\(verb) \(InvalidVersionError(version: v, reason: "must be of the form v1.2.3"))")
            }
            return c
        }

        /// `v1.2.3` or `[v1.0.0, v1.2.0]`.
        func versionInterval(_ args: [GoModLexer.Token], _ line: Line) throws(GoModSyntaxError) -> (String, String) {
            if args.count == 1, args[0].kind != .lbrack {
                let v = try canonicalVersion(try unquote(args[0], line), verb: "retract", line)
                return (v, v)
            }
            guard args.count == 5, args[0].kind == .lbrack, args[2].kind == .comma, args[4].kind == .rbrack else {
                throw fail(line, "usage: retract v1.2.3 or retract [v1.0.0, v1.9.9]")
            }
            let low = try canonicalVersion(try unquote(args[1], line), verb: "retract", line)
            let high = try canonicalVersion(try unquote(args[3], line), verb: "retract", line)
            if SemVer.compare(low, high) > 0 {
                throw fail(line, "retract: version \(low) is after \(high)")
            }
            return (low, high)
        }

        /// The comment text belonging to a directive: its own comments, else its block's.
        func directiveComment(_ line: Line, _ block: Line?) -> String {
            var groups = line.before + line.suffix
            if let block, line.before.isEmpty && line.suffix.isEmpty {
                groups = block.before + block.suffix
            }
            return groups.filter { $0.hasPrefix("//") }
                .map { String($0.dropFirst(2)).trimmingSpaces() }
                .joined(separator: "\n")
        }

        /// modfile's rule: a paragraph that starts with `Deprecated:`; the notice runs to
        /// the end of that paragraph.
        func deprecation(in text: String) -> String? {
            let paragraphs = text.split(separator: "\n\n", omittingEmptySubsequences: false)
            for p in paragraphs where p.hasPrefix("Deprecated:") {
                return String(p.dropFirst("Deprecated:".count).drop(while: { $0 == " " }))
            }
            return nil
        }
    }
}
