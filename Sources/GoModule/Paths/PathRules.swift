/// The character and element rules for module, import and file paths
/// (go.dev/ref/mod#go-mod-file-ident and golang.org/x/mod/module).
///
/// These rules keep module zips extractable on every file system Go supports, so a proxy
/// must apply them exactly: accepting more would let a client receive a module the go
/// command then refuses; accepting less would make valid modules unfetchable.
public enum PathRules {
    /// Checks a module path: import-path rules plus a first element that looks like a
    /// domain name (lower case, contains a dot) and a well-formed major-version suffix.
    public static func checkModulePath(_ path: String) throws(InvalidPathError) {
        try checkModulePath(bytes: Array(path.utf8))
    }

    /// As `checkModulePath(_:)`, for raw bytes that may not even be UTF-8.
    public static func checkModulePath(bytes: [UInt8]) throws(InvalidPathError) {
        func fail(_ reason: String) -> InvalidPathError {
            InvalidPathError(kind: .module, quotedPath: GoQuote.string(bytes), reason: reason)
        }
        if let reason = pathProblem(bytes, kind: .module) { throw fail(reason) }
        let firstEnd = bytes.firstIndex(of: UInt8(ascii: "/")) ?? bytes.count
        if firstEnd == 0 { throw fail("leading slash") }
        let first = bytes[..<firstEnd]
        if !first.contains(UInt8(ascii: ".")) { throw fail("missing dot in first path element") }
        if bytes[0] == UInt8(ascii: "-") { throw fail("leading dash in first path element") }
        for b in first where !isFirstElementByte(b) {
            throw fail("invalid char \(GoQuote.rune(Unicode.Scalar(b))) in first path element")
        }
        // pathProblem guarantees valid UTF-8 by now.
        if !ModulePathMajor.split(String(decoding: bytes, as: UTF8.self)).ok {
            throw fail("invalid version")
        }
    }

    /// Checks an import path (a package path): module-path characters plus `+`.
    public static func checkImportPath(_ path: String) throws(InvalidPathError) {
        let bytes = Array(path.utf8)
        if let reason = pathProblem(bytes, kind: .import) {
            throw InvalidPathError(kind: .import, quotedPath: GoQuote.string(bytes), reason: reason)
        }
    }

    /// Checks a slash-separated file path inside a module: the rules that keep a zip
    /// extractable on Windows, macOS and Linux alike.
    public static func checkFilePath(_ path: String) throws(InvalidPathError) {
        try checkFilePath(bytes: Array(path.utf8))
    }

    public static func checkFilePath(bytes: [UInt8]) throws(InvalidPathError) {
        if let reason = pathProblem(bytes, kind: .file) {
            throw InvalidPathError(kind: .file, quotedPath: GoQuote.string(bytes), reason: reason)
        }
    }

    /// The reason a single path element (also used for escaped versions) is invalid, or nil.
    static func elementProblem(_ elem: String, kind: PathKind) -> String? {
        elementProblem(Array(elem.utf8)[...], kind: kind)
    }

    // MARK: - Implementation

    static func pathProblem(_ bytes: [UInt8], kind: PathKind) -> String? {
        guard let text = String(validating: bytes, as: UTF8.self) else { return "invalid UTF-8" }
        if bytes.isEmpty { return "empty string" }
        if bytes[0] == UInt8(ascii: "-") && kind != .file { return "leading dash" }
        if text.contains("//") { return "double slash" }
        if bytes.last == UInt8(ascii: "/") { return "trailing slash" }
        var start = 0
        for i in 0...bytes.count where i == bytes.count || bytes[i] == UInt8(ascii: "/") {
            if let problem = elementProblem(bytes[start..<i], kind: kind) { return problem }
            start = i + 1
        }
        return nil
    }

    static func elementProblem(_ elem: ArraySlice<UInt8>, kind: PathKind) -> String? {
        if elem.isEmpty { return "empty path element" }
        if elem.allSatisfy({ $0 == UInt8(ascii: ".") }) {
            return "invalid path element \(GoQuote.string(elem))"
        }
        if elem.first == UInt8(ascii: ".") && kind == .module { return "leading dot in path element" }
        if elem.last == UInt8(ascii: ".") { return "trailing dot in path element" }
        let text = String(decoding: elem, as: UTF8.self)
        for scalar in text.unicodeScalars {
            let ok: Bool
            switch kind {
            case .module: ok = isModulePathScalar(scalar)
            case .import: ok = isModulePathScalar(scalar) || scalar == "+"
            case .file: ok = isFileNameScalar(scalar)
            }
            if !ok { return "invalid char \(GoQuote.rune(scalar))" }
        }
        // Windows reserves these device names, with or without an extension.
        let short = elem.prefix { $0 != UInt8(ascii: ".") }
        let shortText = String(decoding: short, as: UTF8.self)
        if windowsReservedNames.contains(asciiUpper(shortText)) {
            return "\(GoQuote.string(short)) disallowed as path element component on Windows"
        }
        if kind == .file { return nil }
        // Windows short names (`PROGRA~1`) could alias another element.
        if let tilde = short.lastIndex(of: UInt8(ascii: "~")), tilde < short.endIndex - 1 {
            let suffix = short[(tilde + 1)...]
            if suffix.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
                return "trailing tilde and digits in path element"
            }
        }
        return nil
    }

    private static let windowsReservedNames: Set<String> = [
        "CON", "PRN", "AUX", "NUL",
        "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
        "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
    ]

    /// Upper-cases ASCII letters only: Go compares these names with EqualFold, and no
    /// non-ASCII rune folds onto them except the Kelvin sign, which we treat like Go does.
    private static func asciiUpper(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars {
            if scalar.value >= 0x61 && scalar.value <= 0x7A, let up = Unicode.Scalar(scalar.value - 32) {
                out.unicodeScalars.append(up)
            } else if scalar == "\u{212A}" {  // KELVIN SIGN folds to K
                out += "K"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static func isFirstElementByte(_ b: UInt8) -> Bool {
        b == UInt8(ascii: "-") || b == UInt8(ascii: ".") || (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x7A)
    }

    static func isModulePathScalar(_ s: Unicode.Scalar) -> Bool {
        guard s.isASCII else { return false }
        let v = s.value
        return s == "-" || s == "." || s == "_" || s == "~"
            || (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A)
    }

    static func isFileNameScalar(_ s: Unicode.Scalar) -> Bool {
        if s.isASCII {
            let v = s.value
            if (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A) { return true }
            return "!#$%&()+,-.=@[]^_{}~ ".unicodeScalars.contains(s)
        }
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return true
        default:
            return false
        }
    }
}
