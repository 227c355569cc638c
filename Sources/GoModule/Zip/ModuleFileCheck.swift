/// One file left out of, or refused from, a module zip, with the go command's reason.
public struct ModuleFileError: Sendable, Equatable, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "\(path): \(reason)" }
}

/// The verdict on a set of files (CheckFiles / CheckDir / CheckZip in x/mod).
public struct CheckedFiles: Sendable, Equatable {
    /// Paths that belong in the zip, in order.
    public var valid: [String] = []
    /// Files the zip leaves out on purpose (vendored packages, nested modules, symlinks…).
    public var omitted: [ModuleFileError] = []
    /// Files that make the module invalid.
    public var invalid: [ModuleFileError] = []
    /// Set when the total size breaks the 500 MiB limit.
    public var sizeError: String?

    /// The error the go command would report, or nil when the set is a valid module.
    public var error: ModuleZipError? {
        if let sizeError { return .size(sizeError) }
        if !invalid.isEmpty { return .invalidFiles(invalid) }
        return nil
    }
}

/// Why a module zip cannot be created or is not valid.
public enum ModuleZipError: Error, Sendable, CustomStringConvertible {
    case invalidFiles([ModuleFileError])
    case size(String)
    case module(String)
    case io(String)
    case format(String)

    public var description: String {
        switch self {
        case .invalidFiles(let list): return list.map(\.description).joined(separator: "\n")
        case .size(let s), .module(let s), .io(let s), .format(let s): return s
        }
    }
}

/// The module zip rules (golang.org/x/mod/zip), shared by zip creation from a directory,
/// from a list of files (direct mode), and the checks of zips received from upstreams.
public enum ModuleZipRules {
    /// Largest module zip, and largest total of its uncompressed contents: 500 MiB.
    public static let maxZipFile: Int64 = 500 << 20
    /// Largest go.mod inside a module zip: 16 MiB.
    public static let maxGoMod: Int64 = 16 << 20
    /// Largest LICENSE inside a module zip: 16 MiB.
    public static let maxLICENSE: Int64 = 16 << 20

    /// Classifies `files` into valid, omitted and invalid, as x/mod's checkFiles does.
    /// `goVersion` is the `go` directive of the module's own go.mod (vendor rules changed
    /// in go 1.24); pass nil to read it from a root `go.mod` among `files`.
    public static func check(_ files: [ModuleSourceFile], goVersion: String?? = nil) -> (CheckedFiles, [ModuleSourceFile]) {
        var cf = CheckedFiles()
        var validFiles: [ModuleSourceFile] = []
        var reported = Set<String>()
        func add(_ path: String, omitted: Bool, _ reason: String) {
            guard reported.insert(path).inserted else { return }
            let e = ModuleFileError(path: path, reason: reason)
            if omitted { cf.omitted.append(e) } else { cf.invalid.append(e) }
        }

        // Directories holding a go.mod (other than the root) are other modules.
        var moduleDirs = Set<String>()
        var rootGoMod: ModuleSourceFile?
        for f in files {
            let (dir, base) = splitPath(f.path)
            if asciiFoldEquals(base, "go.mod"), f.kind.isRegular {
                moduleDirs.insert(dir)
                if base == "go.mod" && dir.isEmpty { rootGoMod = f }
            }
        }
        let language: String?
        switch goVersion {
        case .some(let given): language = given
        case .none: language = rootGoMod.flatMap(Self.goDirective(of:))
        }
        func inSubmodule(_ p: String) -> Bool {
            var p = Substring(p)
            while let slash = p.lastIndex(of: "/") {
                let dir = p[...slash]
                if moduleDirs.contains(String(dir)) { return true }
                p = p[..<slash]
            }
            return false
        }

        var collisions = CollisionChecker()
        var budget = maxZipFile
        for f in files {
            let p = f.path
            if cleanPath(p) != p { add(p, omitted: false, "file path is not clean"); continue }
            if p.hasPrefix("/") { add(p, omitted: false, "file path is not relative"); continue }
            if isVendoredPackage(p, goVersion: language) { add(p, omitted: true, "file is in vendor directory"); continue }
            if inSubmodule(p) { add(p, omitted: true, "file is in another module"); continue }
            if p == ".hg_archival.txt" {
                add(p, omitted: true, "file is inserted by 'hg archive' and is always omitted")
                continue
            }
            do {
                try PathRules.checkFilePath(p)
            } catch {
                add(p, omitted: false, error.description)
                continue
            }
            if asciiLower(p) == "go.mod" && p != "go.mod" {
                add(p, omitted: false, "go.mod files must have lowercase names")
                continue
            }
            if let problem = collisions.check(p, isDirectory: f.kind == .directory) {
                add(p, omitted: false, problem)
                continue
            }
            switch f.kind {
            case .symlink: add(p, omitted: true, "file is a symbolic link"); continue
            case .directory, .other: add(p, omitted: true, "not a regular file"); continue
            case .regular: break
            }
            let size = f.size
            if size >= 0 && size <= budget {
                budget -= size
            } else if cf.sizeError == nil {
                cf.sizeError = "module source tree too large (max size is \(maxZipFile) bytes)"
            }
            if p == "go.mod" && size > maxGoMod {
                add(p, omitted: false, "go.mod file too large (max size is \(maxGoMod) bytes)")
                continue
            }
            if p == "LICENSE" && size > maxLICENSE {
                add(p, omitted: false, "LICENSE file too large (max size is \(maxLICENSE) bytes)")
                continue
            }
            cf.valid.append(p)
            validFiles.append(f)
        }
        return (cf, validFiles)
    }

    /// Reports whether `name` lies in a vendored package and is left out of module zips.
    ///
    /// Files directly in the top-level `vendor/` (like `vendor/modules.txt`) stay, deeper
    /// ones go. Before go 1.24, a nested `x/vendor/` was judged from the wrong offset
    /// (golang.org/issue/31562), so `x/vendor/y.go` was dropped though only
    /// `x/vendor/y/z.go` should be; modules declaring go 1.24 or later get the corrected
    /// rule, and also drop `vendor/modules.txt`. Both are kept exactly, because changing
    /// either would change the `h1:` hashes already recorded in go.sum files.
    public static func isVendoredPackage(_ name: String, goVersion: String?) -> Bool {
        let modern = goVersion.map { GoVersion.compareLanguage($0, "1.24") >= 0 } ?? false
        if modern && name == "vendor/modules.txt" { return true }
        let u = Array(name.utf8)
        let start: Int
        if name.hasPrefix("vendor/") {
            start = "vendor/".utf8.count
        } else if let j = firstIndex(of: Array("/vendor/".utf8), in: u) {
            start = modern ? j + "/vendor/".utf8.count : "/vendor/".utf8.count
        } else {
            return false
        }
        guard start <= u.count else { return false }
        return u[start...].contains(UInt8(ascii: "/"))
    }

    /// The `go` directive of a go.mod file, if it has one and it parses.
    static func goDirective(of file: ModuleSourceFile) -> String? {
        guard let reader = try? file.open(), let bytes = try? reader.readAll(limit: Int(maxGoMod)) else { return nil }
        return (try? GoModParser.parse(String(decoding: bytes, as: UTF8.self)))?.goVersion
    }

    // MARK: - Path helpers (Go's path package, for slash paths)

    static func splitPath(_ p: String) -> (dir: String, base: String) {
        guard let slash = p.lastIndex(of: "/") else { return ("", p) }
        return (String(p[...slash]), String(p[p.index(after: slash)...]))
    }

    /// Go's path.Clean.
    static func cleanPath(_ p: String) -> String {
        if p.isEmpty { return "." }
        let rooted = p.hasPrefix("/")
        var out: [Substring] = []
        for elem in p.split(separator: "/", omittingEmptySubsequences: true) {
            if elem == "." { continue }
            if elem == ".." {
                if let last = out.last, last != ".." {
                    out.removeLast()
                } else if !rooted {
                    out.append(elem)
                }
                continue
            }
            out.append(elem)
        }
        let joined = out.joined(separator: "/")
        if rooted { return "/" + joined }
        return joined.isEmpty ? "." : joined
    }

    /// Go's path.Dir.
    static func dirName(_ p: String) -> String {
        guard let slash = p.lastIndex(of: "/") else { return "." }
        return cleanPath(String(p[...slash]))
    }

    static func asciiLower(_ s: String) -> String {
        String(decoding: s.utf8.map { ($0 >= 0x41 && $0 <= 0x5A) ? $0 + 32 : $0 }, as: UTF8.self)
    }

    /// strings.EqualFold against an ASCII word (only ASCII letters and the Kelvin sign
    /// fold onto ASCII, and go.mod contains no k).
    static func asciiFoldEquals(_ s: String, _ word: String) -> Bool {
        asciiLower(s) == word
    }

    private static func firstIndex(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        outer: for i in 0...(haystack.count - needle.count) {
            for j in 0..<needle.count where haystack[i + j] != needle[j] { continue outer }
            return i
        }
        return nil
    }
}

extension FileKind {
    var isRegular: Bool {
        if case .regular = self { return true }
        return false
    }
}
