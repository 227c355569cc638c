import GoModule

/// Where a module's code lives: the repository (its root path and git URL) and the
/// module's place in it, worked out as the go command does (go.dev/ref/mod#vcs-find).
struct CodeLocation: Sendable, Equatable {
    /// The module path, e.g. `github.com/owner/repo/sub/v2`.
    var modulePath: String
    /// The repository root as an import path, e.g. `github.com/owner/repo`.
    var root: String
    /// Where git fetches it from (before the user's `insteadOf` rewrites).
    var url: String
    /// The module's directory in the repository without the major-version suffix
    /// (`sub`), empty at the root.
    var codeDir: String
    /// `/v2` for a module path ending in a major version, else empty.
    var pathMajor: String

    /// Tags of this module's versions start with this (`sub/` for `sub/v1.2.3`).
    var tagPrefix: String { codeDir.isEmpty ? "" : codeDir + "/" }
}

/// Maps module paths to repositories. The well-known hosts need no network; paths with
/// a `.git` element name their repository themselves.
enum RepositoryResolver {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Hosts whose repositories are always `host/owner/repo`, served over HTTPS by git.
    static let ownerRepoHosts = ["github.com", "bitbucket.org"]

    static func locate(_ modulePath: String) throws(Failure) -> CodeLocation {
        let (prefix, pathMajor, ok) = ModulePathMajor.split(modulePath)
        guard ok else { throw Failure(description: "malformed module path \(GoQuote.string(modulePath))") }
        let elements = prefix.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard let host = elements.first else { throw Failure(description: "malformed module path \(GoQuote.string(modulePath))") }
        let rootElements: Int
        if ownerRepoHosts.contains(host) {
            guard elements.count >= 3, elements[1...2].allSatisfy(isRepoElement) else {
                throw Failure(description: "invalid \(host) import path \(GoQuote.string(modulePath))")
            }
            rootElements = 3
        } else if let gitElement = elements.firstIndex(where: { $0.hasSuffix(".git") && $0.count > 4 }), gitElement >= 1 {
            // example.com/repos/tool.git/sub: the path names its repository.
            rootElements = gitElement + 1
        } else {
            throw Failure(description: "unrecognized import path \(GoQuote.string(modulePath)): only github.com, bitbucket.org and paths with a .git element are supported yet (go-get discovery is coming)")
        }
        let root = elements[..<rootElements].joined(separator: "/")
        let codeDir = elements[rootElements...].joined(separator: "/")
        return CodeLocation(modulePath: modulePath, root: root, url: "https://" + root, codeDir: codeDir, pathMajor: pathMajor)
    }

    /// `[A-Za-z0-9_.-]+`, as the go command's table for these hosts requires.
    static func isRepoElement(_ s: String) -> Bool {
        !s.isEmpty && s.unicodeScalars.allSatisfy { c in
            ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) || c == "_" || c == "." || c == "-"
        }
    }
}
