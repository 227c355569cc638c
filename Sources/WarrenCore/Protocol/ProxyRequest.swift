import GoModule

/// The three artifacts the GOPROXY protocol serves for a module version.
public enum ArtifactKind: String, Sendable, CaseIterable {
    case info, mod, zip

    public var contentType: String {
        switch self {
        case .info: return "application/json"
        case .mod: return "text/plain; charset=utf-8"
        case .zip: return "application/zip"
        }
    }
}

/// A GOPROXY protocol request (go.dev/ref/mod#goproxy-protocol), decoded and validated:
/// the module path is a valid, case-decoded module path and the version a valid element,
/// so nothing downstream ever sees raw client input.
public enum ProxyRequest: Sendable, Equatable {
    /// `$module/@v/list`
    case list(module: String)
    /// `$module/@latest`
    case latest(module: String)
    /// `$module/@v/$version.info|.mod|.zip`. `version` is a canonical version for `.mod`
    /// and `.zip`; `.info` may also carry a query (a branch, a tag, a commit prefix).
    case artifact(module: String, version: String, kind: ArtifactKind)

    public var module: String {
        switch self {
        case .list(let m), .latest(let m), .artifact(let m, _, _): return m
        }
    }

    /// `module@version` for an artifact, else the module: what audit lines name.
    public var target: String {
        if case .artifact(let m, let v, _) = self { return m + "@" + v }
        return module
    }

    /// A short name for metrics and logs: `list`, `latest`, `info`, `mod`, `zip`.
    public var endpoint: String {
        switch self {
        case .list: return "list"
        case .latest: return "latest"
        case .artifact(_, _, let kind): return kind.rawValue
        }
    }

    /// Longest request path accepted; real module paths are far shorter.
    public static let maxPathLength = 1024
    /// Longest path element and version accepted, case-encoded as stored. Each becomes a
    /// file or directory name (a version also gets `.info` or a staging suffix of about
    /// 40 bytes), and file systems refuse names over 255 bytes. The go command sets no
    /// limit of its own; no real module comes near this one.
    public static let maxElementLength = 200

    /// Parses a request path relative to the proxy root (no leading slash), still
    /// percent-encoded as it arrived.
    public static func parse(rawPath: String) throws(ProxyError) -> ProxyRequest {
        if rawPath.utf8.count > maxPathLength {
            throw .badRequest("request path too long")
        }
        let path = try percentDecode(rawPath)
        try checkLengths(path)
        if let r = path.firstRange(of: "/@v/") {
            let escapedModule = String(path[..<r.lowerBound])
            let file = String(path[r.upperBound...])
            let module = try decodeModule(escapedModule)
            if file == "list" { return .list(module: module) }
            guard let dot = file.lastIndex(of: ".") else {
                throw .badRequest("unknown request \(GoQuote.string(file)): want list, VERSION.info, VERSION.mod or VERSION.zip")
            }
            let escapedVersion = String(file[..<dot])
            guard let kind = ArtifactKind(rawValue: String(file[file.index(after: dot)...])) else {
                throw .badRequest("unknown request \(GoQuote.string(file)): want list, VERSION.info, VERSION.mod or VERSION.zip")
            }
            let version: String
            do {
                version = try PathEscaping.unescapeVersion(escapedVersion)
            } catch {
                throw .badRequest(error.description)
            }
            if kind == .info && !isPlausibleQuery(version) {
                throw .badRequest("invalid version query \(GoQuote.string(version))")
            }
            if kind != .info {
                // .mod and .zip exist only for canonical versions; queries go through .info.
                let canonical = ModuleVersion.canonical(version)
                if canonical != version {
                    throw .badRequest("version \(GoQuote.string(version)) is not canonical" + (canonical.isEmpty ? "" : " (use \(canonical))"))
                }
                do {
                    _ = try ModuleVersion(path: module, version: version)
                } catch {
                    throw .badRequest(error.description)
                }
            }
            return .artifact(module: module, version: version, kind: kind)
        }
        if path.hasSuffix("/@latest") {
            return .latest(module: try decodeModule(String(path.dropLast("/@latest".count))))
        }
        throw .notFound("not a module proxy request")
    }

    /// Refuses a path element (of the module path, or the version of an artifact
    /// request) longer than `maxElementLength`, before anything is looked up or stored.
    static func checkLengths(_ path: String) throws(ProxyError) {
        let elements = path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        for (i, element) in elements.enumerated() {
            var length = element.count
            var what = "path element"
            if i == elements.count - 1, i > 0, elements[i - 1].elementsEqual("@v".utf8) {
                // `<version>.info|.mod|.zip`: the version is what becomes a file name.
                length = (element.lastIndex(of: UInt8(ascii: ".")).map { element[..<$0] } ?? element).count
                what = "version"
            }
            if length > maxElementLength {
                throw .badRequest("\(what) too long (\(length) bytes; at most \(maxElementLength))")
            }
        }
    }

    /// Versions and queries (tags, branches, commit prefixes) the go command can send:
    /// letters, digits and `.-_+~`. Anything else is refused before reaching an upstream.
    static func isPlausibleQuery(_ v: String) -> Bool {
        !v.isEmpty && v.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                || b == UInt8(ascii: ".") || b == UInt8(ascii: "-") || b == UInt8(ascii: "_") || b == UInt8(ascii: "+") || b == UInt8(ascii: "~")
        }
    }

    static func decodeModule(_ escaped: String) throws(ProxyError) -> String {
        do {
            return try PathEscaping.unescapePath(escaped)
        } catch {
            throw .badRequest(error.description)
        }
    }

    /// Decodes %XX escapes. Escaped slashes, NULs, bad escapes and invalid UTF-8 are
    /// refused: none can appear in a valid module path, and each is a traversal trick.
    static func percentDecode(_ s: String) throws(ProxyError) -> String {
        guard s.utf8.contains(UInt8(ascii: "%")) else {
            if s.utf8.contains(0) { throw .badRequest("NUL byte in request path") }
            return s
        }
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        var it = Array(s.utf8)[...]
        while let b = it.popFirst() {
            if b != UInt8(ascii: "%") {
                out.append(b)
                continue
            }
            guard let h = it.popFirst(), let l = it.popFirst(), let hi = hexValue(h), let lo = hexValue(l) else {
                throw .badRequest("malformed percent-encoding in request path")
            }
            let v = hi << 4 | lo
            if v == UInt8(ascii: "/") { throw .badRequest("encoded slash in request path") }
            out.append(v)
        }
        if out.contains(0) { throw .badRequest("NUL byte in request path") }
        guard let decoded = String(validating: out, as: UTF8.self) else {
            throw .badRequest("request path is not valid UTF-8")
        }
        return decoded
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x41...0x46: return c - 0x41 + 10
        case 0x61...0x66: return c - 0x61 + 10
        default: return nil
        }
    }
}

