/// The version the go command means by `@latest` (go.dev/ref/mod#version-queries), for a
/// server that knows every version itself: a hosted module has no upstream to ask.
///
/// The highest release version that is not retracted; without one, the highest
/// pre-release that is not retracted; without tagged versions at all, the highest
/// pseudo-version. Retractions come from the go.mod of the highest tagged version (release
/// first), as the go command reads them. When every tagged version is retracted, the
/// highest tagged one is still the answer: the go command then reports the retraction
/// rather than finding nothing.
public enum LatestVersion {
    /// - Parameters:
    ///   - versions: every canonical version, tagged and pseudo, in any order.
    ///   - goMod: the go.mod of a version (nil when it cannot be read).
    public static func choose(from versions: [String], goMod: (String) -> GoModFile?) -> String? {
        var tagged = versions.filter { !PseudoVersion.isPseudoVersion($0) }
        SemVer.sort(&tagged)
        let releases = tagged.filter { SemVer.prerelease($0).isEmpty }
        guard let highestTagged = releases.last ?? tagged.last else {
            var pseudo = versions.filter(PseudoVersion.isPseudoVersion)
            SemVer.sort(&pseudo)
            return pseudo.last
        }
        let source = goMod(highestTagged)
        let allowed = { (v: String) in !(source?.isRetracted(v) ?? false) }
        if let release = releases.last(where: allowed) { return release }
        let prereleases = tagged.filter { !SemVer.prerelease($0).isEmpty }
        if let prerelease = prereleases.last(where: allowed) { return prerelease }
        return highestTagged
    }
}
