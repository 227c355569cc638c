/// A module path and version together, checked as the go command checks them
/// (`module.Check`): a valid path, a valid semantic version, and a version whose major
/// number fits the path's major-version suffix.
public struct ModuleVersion: Hashable, Sendable, CustomStringConvertible {
    public let path: String
    public let version: String

    /// Validates `path` and `version`. The version need not be canonical; use
    /// `canonical(_:)` first where that matters.
    public init(path: String, version: String) throws(ModuleError) {
        do {
            try PathRules.checkModulePath(path)
        } catch {
            throw ModuleError(path: path, underlying: error)
        }
        if !SemVer.isValid(version) {
            throw ModuleError(path: path, underlying: InvalidVersionError(version: version, reason: "not a semantic version"))
        }
        let (_, pathMajor, _) = ModulePathMajor.split(path)
        do {
            try ModulePathMajor.check(version: version, pathMajor: pathMajor)
        } catch {
            throw ModuleError(path: path, underlying: error)
        }
        self.path = path
        self.version = version
    }

    /// `path@version`, the form used in zip prefixes and go.sum.
    public var description: String { "\(path)@\(version)" }

    /// The canonical version, keeping `+incompatible` (which SemVer.canonical drops as
    /// build metadata). Empty for an invalid version.
    public static func canonical(_ v: String) -> String {
        let c = SemVer.canonical(v)
        if SemVer.build(v) == "+incompatible" { return c + "+incompatible" }
        return c
    }
}
