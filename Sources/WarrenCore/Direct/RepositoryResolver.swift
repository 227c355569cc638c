import Foundation
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

/// Where direct mode gets a module from: a git repository, or (for a `mod` go-import
/// tag) another GOPROXY that serves it.
enum RepositoryRoute: Sendable {
    case git(CodeLocation)
    case proxy(url: String)
}

/// Maps module paths to repositories as the go command does: the well-known hosts and
/// paths with a `.git` element need no network; everything else asks the module's
/// host with `?go-get=1`.
struct RepositoryResolver: Sendable {
    struct Failure: Error, CustomStringConvertible {
        let description: String
        /// 404 (nothing there) rather than a failure to report.
        var notFound = true
        /// A policy refusal (GOVCS): 403.
        var forbidden = false
    }

    /// Hosts whose repositories are always `host/owner/repo`, served over HTTPS by git.
    static let ownerRepoHosts = ["github.com", "bitbucket.org"]

    let discovery: ImportDiscovery?
    let vcsRules: VCSRules
    let privatePatterns: ModulePathPatterns
    let insecurePatterns: ModulePathPatterns

    func route(_ modulePath: String) async throws(Failure) -> RepositoryRoute {
        if let location = try Self.staticLocation(modulePath) {
            try checkVCS("git", root: location.root)
            return .git(location)
        }
        guard let discovery else {
            throw Failure(description: "unrecognized import path \(GoQuote.string(modulePath)): discovery is not available")
        }
        let meta: GoImportMeta
        do {
            meta = try await discovery.discover(modulePath)
        } catch {
            throw Failure(description: error.description, notFound: error.notFound)
        }
        if meta.vcs == "mod" {
            return .proxy(url: meta.repoRoot)
        }
        try checkVCS(meta.vcs, root: meta.prefix)
        guard meta.vcs == "git" else {
            throw Failure(description: "\(modulePath): \(meta.prefix) is a \(meta.vcs) repository; Warren's direct mode speaks git only")
        }
        if meta.repoRoot.hasPrefix("http://") && !insecurePatterns.matches(meta.prefix) {
            throw Failure(description: "\(modulePath): repository \(meta.repoRoot) is plain HTTP and \(meta.prefix) is not marked insecure", forbidden: true)
        }
        return .git(try Self.location(modulePath, root: meta.prefix, url: meta.repoRoot))
    }

    /// The GOVCS rule for a repository root.
    func checkVCS(_ vcs: String, root: String) throws(Failure) {
        let isPrivate = privatePatterns.matches(root)
        let (allowed, rule) = vcsRules.allows(vcs, module: root, isPrivate: isPrivate)
        guard allowed else {
            throw Failure(description: "GOVCS disallows using \(vcs) for \(isPrivate ? "private" : "public") \(root) (rule \(rule))", notFound: false, forbidden: true)
        }
    }

    /// The location for the well-known hosts and `.git` paths; nil when discovery is needed.
    static func staticLocation(_ modulePath: String) throws(Failure) -> CodeLocation? {
        let (prefix, _, ok) = ModulePathMajor.split(modulePath)
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
            return nil
        }
        let root = elements[..<rootElements].joined(separator: "/")
        return try location(modulePath, root: root, url: "https://" + root)
    }

    /// The module's place in a repository whose root import path is `root`.
    static func location(_ modulePath: String, root: String, url: String) throws(Failure) -> CodeLocation {
        let (prefix, pathMajor, ok) = ModulePathMajor.split(modulePath)
        guard ok else { throw Failure(description: "malformed module path \(GoQuote.string(modulePath))") }
        let codeDir: String
        if root == modulePath {
            codeDir = ""
        } else if GoImportMeta.hasPathPrefix(prefix, root) {
            codeDir = String(prefix.dropFirst(root.count)).trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        } else {
            throw Failure(description: "\(modulePath): repository root \(root) does not contain the module")
        }
        return CodeLocation(modulePath: modulePath, root: root, url: url, codeDir: codeDir, pathMajor: pathMajor)
    }

    /// `[A-Za-z0-9_.-]+`, as the go command's table for these hosts requires.
    static func isRepoElement(_ s: String) -> Bool {
        !s.isEmpty && s.unicodeScalars.allSatisfy { c in
            ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) || c == "_" || c == "." || c == "-"
        }
    }
}
