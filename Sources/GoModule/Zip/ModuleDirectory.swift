/// Lists a module's source tree the way the go command does before zipping it
/// (x/mod's listFilesInDir): VCS metadata directories and nested modules are skipped
/// whole, vendored packages are left out, and nothing behind a symbolic link is followed.
public enum ModuleDirectory {
    public struct Listing: Sendable {
        /// Candidate files, in walk order (names sorted by bytes at each level).
        public var files: [ModuleSourceFile] = []
        /// Directories and files skipped while walking, with the reason.
        public var omitted: [ModuleFileError] = []
        /// Entries whose names are not valid UTF-8 and so cannot be in any module.
        public var invalid: [ModuleFileError] = []
    }

    public static func list(_ root: String) throws -> Listing {
        var listing = Listing()
        let goVersion = (try? ReadableFile.readAll(path: join(root, "go.mod"), limit: Int(ModuleZipRules.maxGoMod)))
            .flatMap { try? GoModParser.parse(String(decoding: $0, as: UTF8.self)) }?.goVersion
        try walk(root: root, relative: "", goVersion: goVersion, into: &listing)
        return listing
    }

    /// The checked file set of a directory (x/mod's CheckDir), with paths relative to it.
    public static func check(_ root: String) throws -> CheckedFiles {
        let listing = try list(root)
        var (cf, _) = ModuleZipRules.check(listing.files)
        cf.omitted.append(contentsOf: listing.omitted)
        cf.invalid.append(contentsOf: listing.invalid)
        return cf
    }

    private static func walk(root: String, relative: String, goVersion: String?, into listing: inout Listing) throws {
        let dirPath = relative.isEmpty ? root : join(root, relative)
        for rawName in try FileSystem.listDirectory(dirPath) {
            guard let name = String(validating: rawName, as: UTF8.self) else {
                let shown = relative.isEmpty ? GoQuote.string(rawName) : relative + "/" + GoQuote.string(rawName)
                listing.invalid.append(ModuleFileError(path: shown, reason: "malformed file path: invalid UTF-8"))
                continue
            }
            let rel = relative.isEmpty ? name : relative + "/" + name
            let full = join(root, rel)
            if ModuleZipRules.isVendoredPackage(rel, goVersion: goVersion) {
                listing.omitted.append(ModuleFileError(path: rel, reason: "file is in vendor directory"))
                continue
            }
            guard let kind = FileSystem.lstatKind(full) else {
                throw FileIOError("lstat", full)
            }
            switch kind {
            case .directory:
                if [".bzr", ".git", ".hg", ".svn"].contains(name) {
                    listing.omitted.append(ModuleFileError(path: rel, reason: "directory is a version control repository"))
                    continue
                }
                if case .regular = FileSystem.lstatKind(join(full, "go.mod")) {
                    listing.omitted.append(ModuleFileError(path: rel, reason: "directory is in another module"))
                    continue
                }
                try walk(root: root, relative: rel, goVersion: goVersion, into: &listing)
            case .regular:
                listing.files.append(ModuleSourceFile(path: rel, kind: kind, contents: .file(path: full)))
            case .symlink, .other:
                listing.omitted.append(ModuleFileError(path: rel, reason: "not a regular file"))
            }
        }
    }

    static func join(_ a: String, _ b: String) -> String {
        a.hasSuffix("/") ? a + b : a + "/" + b
    }
}
